// The connection point page (/point/?t=TOKEN): check camera, microphone and
// connection, then join and watch the hall's program, the current speaker
// beside it and the point's own picture small; ask for the floor and speak
// when the chair gives it.
//
// A browser that joined with this link before joins again at once when the
// page opens (after a reload, a crash or a closed tab), with the devices
// chosen last time: a delegate need not click anything to come back.

import { readToken, fetchSession } from './session.js';
import { Call, State, closingText } from './call.js';
import { AudioSinks, DevicePicker, LevelMeter, mediaAllowed, mediaErrorText, showVideo } from './media.js';
import { initLang, t } from './i18n.js';
import { median, selectedPair, videoBytesSent, videoFramesDecoded } from './stats.js';
import { Floor, SPEAKER_STREAM, SPEAKER_VIDEO, showClock } from './floor.js';
import {
  byId, debugInfo, h, notify, showInsecure, showRefusal, showSessionRefusal, showStatus, showUnreachable,
} from './ui.js';

// Hall roles whose video is the program, in order of preference.
const PROGRAM_ROLES = ['technician', 'chair'];

const ui = {
  body: document.body,
  title: byId('conf-title'),
  pointName: byId('point-name'),
  lang: byId('lang'),
  status: byId('status'),
  refusal: byId('refusal'),
  stage: byId('stage'),
  hallVideo: byId('hall-video'),
  hallPlaceholder: byId('hall-placeholder'),
  hallLabel: byId('hall-label'),
  speaker: byId('speaker'),
  speakerVideo: byId('speaker-video'),
  speakerPlaceholder: byId('speaker-placeholder'),
  speakerLabel: byId('speaker-label'),
  floor: byId('floor'),
  floorStatus: byId('floor-status'),
  floorClockRow: byId('floor-clock-row'),
  floorClock: byId('floor-clock'),
  floorSubject: byId('floor-subject'),
  floorAsk: byId('floor-ask'),
  floorWithdraw: byId('floor-withdraw'),
  floorFinish: byId('floor-finish'),
  micState: byId('mic-state'),
  selfVideo: byId('self-video'),
  cameraSelect: byId('camera-select'),
  micSelect: byId('mic-select'),
  meter: byId('mic-meter'),
  check: byId('check'),
  checkResults: byId('check-results'),
  join: byId('join'),
  notices: byId('notices'),
  sinks: byId('audio-sinks'),
  unmute: byId('unmute'),
};

const token = readToken();
const debug = debugInfo();
let session = null;
let picker = null;
let call = null;
let welcomed = false;
let roster = [];
const streams = new Map(); // participant id -> MediaStream received from the server
const sinks = new AudioSinks(ui.sinks, ui.unmute);
const floor = new Floor();
const slots = new Map(); // speaker slot (speaker-video, speaker-audio-0, ...) -> its track here
let floorPending = 0; // timer while a floor action of this page awaits the server's answer

function setStep(step) {
  ui.body.dataset.step = step;
  ui.stage.hidden = step === 'loading';
}

// Remembers, per conference and point, that this browser joined: it then
// joins by itself the next time the link opens.
function joinedKey() {
  return `hoinghi.joined:${session.conference_id}:${session.point_id}`;
}

function joinedBefore() {
  try {
    return !!localStorage.getItem(joinedKey());
  } catch {
    return false;
  }
}

function rememberJoined() {
  try {
    localStorage.setItem(joinedKey(), new Date().toISOString());
  } catch {
    // Not remembered: the next visit asks for a click again.
  }
}

async function main() {
  initLang(ui.lang);
  window.addEventListener('hoinghi:lang', redraw);
  const res = await fetchSession(token);
  if (!res.ok) {
    if (res.refusal) {
      showSessionRefusal(ui.refusal, res.refusal);
      showStatus(ui.status, State.refused);
    } else {
      showUnreachable(ui.refusal);
      showStatus(ui.status, State.idle, 'unreachable');
    }
    return;
  }
  session = res.session;
  ui.title.textContent = session.conference_title || t('app.title');
  ui.pointName.textContent = session.name || '';
  document.title = `${session.name || t('point.name')} – ${session.conference_title || t('app.title')}`;
  showStatus(ui.status, State.idle);

  if (session.role !== 'point') {
    showRefusal(ui.refusal, {
      title: () => t('refusal.wrongpage.point.title'),
      message: () => t('refusal.wrongpage.point'),
      link: { href: '/console/' + window.location.search, text: () => t('refusal.wrongpage.point.link') },
      phone: session.technician_phone,
      reason: 'wrong_page',
    });
    return;
  }
  if (!mediaAllowed()) {
    showInsecure(ui.refusal, session.technician_phone);
    return;
  }

  const rejoin = joinedBefore();
  setStep(rejoin ? 'live' : 'setup');
  picker = new DevicePicker({
    video: ui.selfVideo,
    cameraSelect: ui.cameraSelect,
    micSelect: ui.micSelect,
    meter: new LevelMeter(ui.meter),
    onTrack: (track) => call?.replaceTrack(track).catch((err) => console.warn('hoinghi: replaceTrack', err)),
    onError: (text) => notify(ui.notices, text),
  });
  try {
    await picker.start();
  } catch (err) {
    console.warn('hoinghi: getUserMedia', err);
    showRefusal(ui.refusal, {
      title: () => t('refusal.media.title'),
      message: () => mediaErrorText(err),
      phone: session.technician_phone,
      reason: 'media',
    });
    return;
  }
  if (picker.stream.getVideoTracks().length === 0) notify(ui.notices, t('media.nocamera'), 20);
  if (picker.stream.getAudioTracks().length === 0) notify(ui.notices, t('media.nomic'), 20);
  setupFloor();
  if (rejoin) {
    join();
    return;
  }
  ui.join.disabled = false;
  ui.check.disabled = false;
  ui.join.addEventListener('click', join, { once: true });
  ui.check.addEventListener('click', () => runCheck().catch((err) => {
    console.warn('hoinghi: connection test', err);
    ui.check.disabled = false;
  }));
}

// Connects (once): the connection test and joining share one Call.
function ensureCall() {
  if (call) return call;
  call = new Call({
    token,
    stream: picker.stream,
    iceServers: session.ice_servers,
    on: {
      state: showState,
      welcome: () => {
        welcomed = true;
      },
      roster: (participants) => {
        roster = participants;
        render();
        showState(call.state);
      },
      track: (id, stream, track, name) => {
        if (id === SPEAKER_STREAM) {
          addSlot(name, track);
          return;
        }
        streams.set(id, stream);
        if (stream.getAudioTracks().length > 0) sinks.set(id, stream);
        track.addEventListener('unmute', render);
        track.addEventListener('mute', render);
        render();
      },
      streamEnded: (id) => {
        if (id === SPEAKER_STREAM) {
          clearSlots();
          return;
        }
        streams.delete(id);
        sinks.remove(id);
        render();
      },
      remoteReset: () => {
        streams.clear();
        sinks.clear();
        clearSlots();
        render();
      },
      floor: (msg, fresh) => {
        if (!floor.update(msg, fresh)) return;
        clearTimeout(floorPending);
        floorPending = 0;
        renderFloor();
      },
      floorAlert: (msg) => {
        if (msg.point_id === session.point_id) notify(ui.notices, t('floor.alert.self'), 30);
      },
      notice: (text) => notify(ui.notices, text),
      closed: (reason, message) => {
        showRefusal(ui.refusal, {
          title: () => t('refusal.closed.point'),
          message: () => closingText(reason, message),
          phone: session.technician_phone,
          reason,
        });
        releaseMedia();
      },
      refused: (refusal) => {
        showSessionRefusal(ui.refusal, refusal);
        releaseMedia();
      },
    },
  });
  call.start();
  return call;
}

function join() {
  ui.join.disabled = true;
  ui.check.disabled = true;
  setStep('live');
  rememberJoined();
  sinks.unlock(); // after a click this lets the hall's sound play
  ensureCall();
  render();
}

// The hall is "there" when a hall participant (technician or chair) is connected.
function hallPresent() {
  return roster.some((p) => PROGRAM_ROLES.includes(p.role));
}

// Shows the call's state; connected before the hall joined shows "waiting".
function showState(state) {
  const shown = state === State.connected && !hallPresent() ? 'waiting' : state;
  showStatus(ui.status, state, shown);
  render();
  renderFloor();
}

function releaseMedia() {
  sinks.clear();
  for (const track of picker?.stream?.getTracks() || []) track.stop();
}

// Returns the participant and stream to show large: the first hall participant
// (technician first, then chair) whose stream has video; else any stream with video.
function program() {
  for (const role of PROGRAM_ROLES) {
    for (const p of roster) {
      const stream = streams.get(p.id);
      if (p.role === role && stream && stream.getVideoTracks().length > 0) return { p, stream };
    }
  }
  for (const [id, stream] of streams) {
    if (stream.getVideoTracks().length > 0) return { p: roster.find((p) => p.id === id) || null, stream };
  }
  return null;
}

// Marks in window.hoinghi.timing when the hall's first frame is shown,
// counted from the opening of the page (performance.now()).
function watchFirstFrame(video) {
  if (debug.timing.firstHallFrame || !video.requestVideoFrameCallback) return;
  video.requestVideoFrameCallback(() => {
    if (!debug.timing.firstHallFrame) debug.timing.firstHallFrame = performance.now();
  });
}

function render() {
  const shown = program();
  if (!shown) {
    ui.hallVideo.srcObject = null;
    delete ui.hallVideo.dataset.participant;
    ui.hallPlaceholder.hidden = false;
    ui.hallPlaceholder.textContent = call?.state === State.reconnecting
      ? t('point.hall.reconnecting')
      : call?.state === State.connected && !hallPresent() ? t('point.hall.notstarted') : t('point.hall.waiting');
    ui.hallLabel.textContent = t('point.hall');
    return;
  }
  if (ui.hallVideo.srcObject !== shown.stream) {
    showVideo(ui.hallVideo, shown.stream);
    watchFirstFrame(ui.hallVideo);
  }
  ui.hallVideo.dataset.participant = shown.stream.id;
  const live = shown.stream.getVideoTracks().some((tr) => !tr.muted);
  ui.hallPlaceholder.hidden = live;
  ui.hallPlaceholder.textContent = t('point.hall.waiting');
  ui.hallLabel.textContent = shown.p?.name || t('point.hall');
}

// Floor control: the point asks for the floor (with an optional subject),
// withdraws its request, or finishes its turn; the server answers every
// change with a floor_state.
function setupFloor() {
  const act = (action, fields) => {
    if (!call || !call.floor(action, fields)) {
      notify(ui.notices, t('floor.notconnected'));
      return;
    }
    // Buttons stay disabled until the server answers (or for a few seconds
    // when it refuses: the refusal comes as a notice).
    clearTimeout(floorPending);
    floorPending = setTimeout(() => {
      floorPending = 0;
      renderFloor();
    }, 3000);
    renderFloor();
  };
  ui.floorAsk.addEventListener('click', () => act('ask', { subject: ui.floorSubject.value.trim() }));
  ui.floorSubject.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ui.floorAsk.disabled) ui.floorAsk.click();
  });
  ui.floorWithdraw.addEventListener('click', () => act('withdraw'));
  ui.floorFinish.addEventListener('click', () => act('finish'));
  setInterval(tickFloor, 500);
}

// Keeps the track of a speaker slot: video shows in the speaker view, each
// voice plays in its own <audio> element (a MediaStream with several audio
// tracks does not play them all everywhere).
function addSlot(name, track) {
  if (!name) {
    console.warn('hoinghi: speaker track without a slot name', track.kind);
    name = track.kind === 'video' ? SPEAKER_VIDEO : `speaker-audio-${track.id}`;
  }
  slots.set(name, track);
  debug.slots[name] = track.id;
  if (track.kind === 'audio') {
    sinks.set(name, new MediaStream([track]));
  } else {
    track.addEventListener('unmute', renderSpeaker);
    track.addEventListener('mute', renderSpeaker);
  }
  renderSpeaker();
}

function clearSlots() {
  for (const [name, track] of slots) {
    if (track.kind === 'audio') sinks.remove(name);
  }
  slots.clear();
  debug.slots = {};
  ui.speakerVideo.srcObject = null;
  renderSpeaker();
}

// Shows the first holder of the floor other than this point in the speaker
// view, with name and subject; the speaker-video slot carries its picture.
function renderSpeaker() {
  const me = session?.point_id;
  const shown = floor.holders.find((h) => h.point_id !== me);
  const video = slots.get(SPEAKER_VIDEO);
  ui.speaker.dataset.participant = shown ? shown.point_id : '';
  if (!shown) {
    const self = !!floor.holder(me);
    ui.speaker.dataset.state = self ? 'self' : 'none';
    ui.speakerVideo.hidden = true;
    ui.speakerPlaceholder.hidden = false;
    ui.speakerPlaceholder.textContent = t(self ? 'point.speaker.self' : 'point.speaker.none');
    ui.speakerLabel.textContent = t('point.speaker');
    return;
  }
  if (video && ui.speakerVideo.srcObject?.getVideoTracks()[0] !== video) {
    showVideo(ui.speakerVideo, new MediaStream([video]));
  }
  const live = !!video && !video.muted;
  ui.speaker.dataset.state = live ? 'live' : 'waiting';
  ui.speakerVideo.hidden = !video;
  ui.speakerPlaceholder.hidden = live;
  ui.speakerPlaceholder.textContent = t('point.speaker.waiting');
  ui.speakerLabel.textContent = shown.subject ? `${shown.name} – ${shown.subject}` : shown.name;
  ui.speakerLabel.title = ui.speakerLabel.textContent;
}

// Shows this point's place on the floor: nothing asked, queued (at which
// position), or holding it (with the time left); and whether the hall
// forwards its microphone, which only the floor decides (the track keeps
// running, so that the switch is instant).
function renderFloor() {
  if (!session) return;
  const me = session.point_id;
  const turn = floor.holder(me);
  const request = floor.request(me);
  const state = turn ? 'holding' : request ? 'queued' : 'idle';
  ui.floor.dataset.floor = state;
  ui.body.dataset.floor = state;
  ui.floorStatus.hidden = state === 'idle';
  ui.floorStatus.textContent = turn
    ? t('floor.point.holding')
    : request ? t('floor.point.queued', { n: request.position }) : '';
  const ready = call?.state === State.connected && floor.known && !floorPending;
  ui.floorSubject.hidden = state !== 'idle';
  ui.floorAsk.hidden = state !== 'idle';
  ui.floorWithdraw.hidden = state !== 'queued';
  ui.floorFinish.hidden = state !== 'holding';
  ui.floorAsk.disabled = !ready;
  ui.floorWithdraw.disabled = !ready;
  ui.floorFinish.disabled = !ready;
  ui.floorClockRow.hidden = !turn;
  const mic = picker?.stream?.getAudioTracks().length > 0;
  ui.micState.hidden = !mic;
  ui.micState.dataset.live = String(!!turn);
  ui.micState.textContent = t(turn ? 'floor.mic.live' : 'floor.mic.muted');
  tickFloor();
  renderSpeaker();
}

function tickFloor() {
  const turn = session && floor.holder(session.point_id);
  if (turn) showClock(ui.floorClock, floor, turn);
}

function redraw() {
  if (!session) return;
  showState(call ? call.state : State.idle);
}


// The connection test: how fast the server answers over HTTP, whether the
// signaling WebSocket opens, whether the media path connects (and how: UDP,
// TCP or relay, with its round trip), how fast the picture goes out, and
// whether the hall's picture comes in. It connects for real, so the hall sees
// the point from now on; joining afterwards only changes the view.
async function runCheck() {
  ui.check.disabled = true;
  ui.check.textContent = t('check.running');
  ui.checkResults.hidden = false;
  ui.checkResults.replaceChildren();
  ui.checkResults.dataset.result = 'running';
  let worst = 'ok';
  const item = (result, text) => {
    ui.checkResults.append(h('li', { 'data-result': result }, text));
    if (result === 'bad' || (result === 'warn' && worst === 'ok')) worst = result;
  };

  const rtts = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    try {
      const res = await fetch('/healthz', { cache: 'no-store' });
      if (res.ok) rtts.push(performance.now() - start);
    } catch (err) {
      console.warn('hoinghi: /healthz', err);
    }
  }
  if (rtts.length === 0) {
    item('bad', t('check.http.fail'));
  } else {
    const ms = Math.round(median(rtts));
    item(ms < 300 ? 'ok' : 'warn', t('check.http', { ms }));
  }

  ensureCall();
  const opened = await until(() => welcomed, 8000);
  item(opened ? 'ok' : 'bad', t(opened ? 'check.signal' : 'check.signal.fail'));
  const connected = opened && await until(() => debug.pcs.publish?.connectionState === 'connected', 8000);
  if (!connected) {
    item('bad', t('check.media.fail'));
  } else {
    const pub = debug.pcs.publish;
    const first = await pub.getStats();
    await sleep(1500);
    const second = await pub.getStats();
    const pair = selectedPair(second) || {};
    const rtt = Math.round(pair.rtt ?? 0);
    const path = pair.candidateType === 'relay' ? 'relay' : pair.protocol === 'tcp' ? 'tcp' : 'udp';
    item(rtt < 150 && path === 'udp' ? 'ok' : rtt < 400 ? 'warn' : 'bad',
      t('check.media', { path: t('check.path.' + path), rtt }));
    const kbps = Math.round(((videoBytesSent(second) - videoBytesSent(first)) * 8) / 1500);
    if (picker.stream.getVideoTracks().length > 0) {
      item(kbps >= 150 ? 'ok' : kbps > 0 ? 'warn' : 'bad', kbps > 0 ? t('check.send', { kbps }) : t('check.send.fail'));
    }
    const sub = debug.pcs.subscribe;
    const frames = sub ? videoFramesDecoded(await sub.getStats()) : 0;
    item('ok', t(frames > 0 ? 'check.receive' : 'check.receive.none'));
  }
  ui.checkResults.dataset.result = worst;
  item(worst, t('check.done.' + worst));
  ui.check.textContent = t('point.check.again');
  ui.check.disabled = ui.body.dataset.step !== 'setup';
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Resolves to true as soon as cond() holds, or to false after ms.
async function until(cond, ms) {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(50);
  }
  return true;
}

main().catch((err) => {
  console.error('hoinghi: point page', err);
  notify(ui.notices, t('page.error', { error: err.message || err }), 60);
});
