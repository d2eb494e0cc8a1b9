// The connection point page (/point/?t=TOKEN): check camera, microphone and
// connection, then join and watch the hall's program, the current speaker
// beside it and the point's own picture small; ask for the floor and speak
// when the chair gives it.
//
// The point also declares how many delegates are present (check-in, which
// never holds up joining and may be updated at any time), confirms its
// presence when the hall calls the roll, and follows the hall technician's
// controls: its microphone muted at the hall, its camera reopened, or the
// page dropped (then it waits for a click to connect again).
//
// A browser that joined with this link before joins again at once when the
// page opens (after a reload, a crash or a closed tab), with the devices
// chosen last time: a delegate need not click anything to come back.

import { readToken } from './session.js';
import { Call, State, closingText } from './call.js';
import { AudioSinks, DevicePicker, LevelMeter, mediaAllowed, mediaErrorText, showVideo, useVideoLayers } from './media.js';
import { initLang, t } from './i18n.js';
import { median, reportOwnStats, selectedPair, videoBytesSent, videoFramesDecoded } from './stats.js';
import { Floor, SPEAKER_STREAM, SPEAKER_VIDEO, clockTime, formatClock, showClock } from './floor.js';
import { RollCall, conferenceStage, setTimeZone, showStage } from './attendance.js';
import { CONTENT_STREAM, ContentView } from './content.js';
import {
  byId, debugInfo, h, notify, openSession, showDownlink, showInsecure, showRefusal, showSessionRefusal, showStatus,
} from './ui.js';

// Hall roles whose video is the program, in order of preference.
const PROGRAM_ROLES = ['technician', 'chair'];

const ui = {
  body: document.body,
  title: byId('conf-title'),
  pointName: byId('point-name'),
  confStage: byId('conf-stage'),
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
  speakerClock: byId('speaker-clock'),
  floor: byId('floor'),
  floorStatus: byId('floor-status'),
  floorClockRow: byId('floor-clock-row'),
  floorClock: byId('floor-clock'),
  floorSubject: byId('floor-subject'),
  floorAsk: byId('floor-ask'),
  floorWithdraw: byId('floor-withdraw'),
  floorFinish: byId('floor-finish'),
  micState: byId('mic-state'),
  mutedNotice: byId('muted-notice'),
  attendance: byId('attendance'),
  rollcall: byId('rollcall'),
  rollcallConfirm: byId('rollcall-confirm'),
  rollcallClock: byId('rollcall-clock'),
  rollcallDone: byId('rollcall-done'),
  checkin: byId('checkin'),
  checkinDelegates: byId('checkin-delegates'),
  checkinRepresentative: byId('checkin-representative'),
  checkinSend: byId('checkin-send'),
  checkinSummary: byId('checkin-summary'),
  checkinText: byId('checkin-text'),
  checkinEdit: byId('checkin-edit'),
  checkinHint: byId('checkin-hint'),
  selfVideo: byId('self-video'),
  cameraSelect: byId('camera-select'),
  micSelect: byId('mic-select'),
  meter: byId('mic-meter'),
  check: byId('check'),
  checkResults: byId('check-results'),
  join: byId('join'),
  notices: byId('notices'),
  downlinkNote: byId('downlink-note'),
  sinks: byId('audio-sinks'),
  unmute: byId('unmute'),
  contentShare: byId('content-share'),
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
const rollCall = new RollCall();
// The content shared in the conference: the main view while there is one,
// the hall and the speaker small beside it. The point shares while it
// holds the floor.
const content = new ContentView({
  screen: byId('content'),
  video: byId('content-video'),
  label: byId('content-label'),
  placeholder: byId('content-placeholder'),
  button: ui.contentShare,
  call: () => call,
  notify: (text, seconds) => notify(ui.notices, text, seconds),
  layout: (active) => { ui.body.dataset.content = active ? 'on' : 'off'; },
});
let rollCallPending = 0; // timer while this page's confirmation awaits the server's answer
let mutedByHall = false; // the technician muted this point (control "mute")
let conferenceState = null; // the last conference_state: the floor is asked for only while it runs
let lastFloorState = 'idle'; // this point's place on the floor at the last render
// The check-in: declared is what the server was sent last ({delegates,
// representative}, remembered across visits), pending what waits for a
// connection, editing whether the form is open over the summary.
const checkIn = { declared: null, pending: null, editing: false };

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
  session = await openSession(token, ui.refusal, ui.status);
  if (!session) return;
  useVideoLayers(session.video_layers);
  setTimeZone(session.time_zone); // every time on the page in the conference's zone
  ui.title.textContent = session.conference_title || t('app.title');
  // The conference's name stays when the language changes.
  if (session.conference_title) delete ui.title.dataset.i18n;
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
  setupAttendance();
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
    content: true,
    on: {
      state: showState,
      welcome: () => {
        welcomed = true;
        // The server says again after the welcome if the hall muted us.
        mutedByHall = false;
        renderFloor();
        sendCheckIn();
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
        if (id === CONTENT_STREAM) {
          content.setTrack(track);
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
        if (id === CONTENT_STREAM) return;
        streams.delete(id);
        sinks.remove(id);
        render();
      },
      remoteReset: () => {
        streams.clear();
        sinks.clear();
        clearSlots();
        content.reset();
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
      downlink: (state) => showDownlink(ui.downlinkNote, state),
      mediaState: (msg) => {
        if (msg.state === 'failed') {
          const phone = session.technician_phone ? t('media.failed.phone', { phone: session.technician_phone }) : '';
          notify(ui.notices, t('media.failed') + phone, 60);
        }
      },
      error: (msg) => {
        if (msg.request === 'check_in') checkInRefused();
        if (msg.request === 'roll_call') {
          clearTimeout(rollCallPending);
          rollCallPending = 0;
          renderRollCall();
        }
      },
      rollCall: (msg) => {
        const wasOpen = rollCall.open && rollCall.state?.roll_call_id === msg.roll_call_id;
        rollCall.update(msg);
        clearTimeout(rollCallPending);
        rollCallPending = 0;
        if (msg.open && !wasOpen && !rollCall.hasConfirmed(session.point_id)) notify(ui.notices, t('rollcall.opened'), 15);
        renderRollCall();
      },
      conference: (msg) => {
        conferenceState = msg;
        showStage(ui.confStage, msg, clockTime);
        renderFloor();
      },
      muted: (muted) => {
        if (muted !== mutedByHall) notify(ui.notices, t(muted ? 'control.muted' : 'control.unmuted'), 15);
        mutedByHall = muted;
        renderFloor();
      },
      restartCamera,
      content: (msg) => {
        content.update(msg);
        renderFloor();
      },
      contentEnded: (reason) => {
        content.ended(reason);
        renderFloor();
      },
      closed: (reason, message) => {
        if (reason === 'dropped') {
          // The technician dropped this point: no reconnecting by itself;
          // the button reloads the page, which joins again.
          showRefusal(ui.refusal, {
            title: () => t('control.dropped.title'),
            message: () => t('control.dropped'),
            link: { href: window.location.href, text: () => t('control.reconnect') },
            phone: session.technician_phone,
            reason,
          });
        } else {
          showRefusal(ui.refusal, {
            title: () => t('refusal.closed.point'),
            message: () => closingText(reason, message),
            phone: session.technician_phone,
            reason,
          });
        }
        releaseMedia();
      },
      refused: (refusal) => {
        showSessionRefusal(ui.refusal, refusal);
        releaseMedia();
      },
    },
  });
  call.start();
  // The hall sees this page's own figures (resolution, frame rate, loss) next to the server's.
  reportOwnStats({ pcs: () => debug.pcs, send: (msg) => call.send(msg), onReport: (r) => { debug.ownStats = r; } });
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
  // Joining never waits for the check-in, but reminds of it.
  if (!checkIn.declared && !checkIn.pending) notify(ui.notices, t('checkin.hint'), 20);
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
  renderRollCall();
}

function releaseMedia() {
  sinks.clear();
  for (const track of picker?.stream?.getTracks() || []) track.stop();
}

// The stream of the hall program: one picture and one sound of the hall,
// whichever console they come from.
const PROGRAM_STREAM = 'program';

// Returns the participant and stream to show large: the hall program; from
// an older server, the first hall participant (technician first, then
// chair) whose stream has video; else any stream with video.
function program() {
  const prog = streams.get(PROGRAM_STREAM);
  if (prog && prog.getVideoTracks().length > 0) return { p: null, stream: prog };
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
  // Another point holding the floor is the main view, the hall small
  // beside it; otherwise the hall is.
  ui.body.dataset.mainView = shown ? 'speaker' : 'hall';
  ui.speakerClock.hidden = !shown;
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
  // The point shares its screen while it holds the floor.
  ui.contentShare.hidden = !turn && !call?.contentTrack;
  // The floor is asked for only while the conference runs (an older
  // server, which sends no status, lets the request through).
  const stage = conferenceStage(conferenceState);
  const running = stage === 'running' || stage === '' || !conferenceState?.status;
  ui.floorStatus.hidden = state === 'idle' && running;
  // Holding the floor while the hall muted this point is one state: seen,
  // not heard.
  ui.floorStatus.textContent = turn
    ? t(mutedByHall ? 'floor.point.holding.muted' : 'floor.point.holding')
    : request ? t('floor.point.queued', { n: request.position }) : t('floor.ask.notrunning');
  // A request taken, or a turn ended: the subject asked with is done.
  if (state !== lastFloorState && lastFloorState === 'idle') ui.floorSubject.value = '';
  lastFloorState = state;
  const ready = call?.state === State.connected && floor.known && !floorPending;
  ui.floorSubject.hidden = state !== 'idle';
  ui.floorAsk.hidden = state !== 'idle';
  ui.floorWithdraw.hidden = state !== 'queued';
  ui.floorFinish.hidden = state !== 'holding';
  ui.floorAsk.disabled = !ready || !running;
  ui.floorSubject.disabled = !running;
  ui.floorWithdraw.disabled = !ready;
  ui.floorFinish.disabled = !ready;
  ui.floorClockRow.hidden = !turn;
  const mic = picker?.stream?.getAudioTracks().length > 0;
  ui.micState.hidden = !mic || mutedByHall;
  ui.micState.dataset.live = String(!!turn && !mutedByHall);
  ui.micState.textContent = t(turn ? 'floor.mic.live' : 'floor.mic.muted');
  ui.mutedNotice.hidden = !mutedByHall || !!turn;
  ui.body.dataset.muted = String(mutedByHall);
  tickFloor();
  renderSpeaker();
}

function tickFloor() {
  const turn = session && floor.holder(session.point_id);
  if (turn) showClock(ui.floorClock, floor, turn);
  // The time left of the speaker shown, at the other points too.
  const shown = session && floor.holders.find((h) => h.point_id !== session.point_id);
  if (shown) showClock(ui.speakerClock, floor, shown);
}

function redraw() {
  if (!session) return;
  if (conferenceState) showStage(ui.confStage, conferenceState, clockTime);
  showState(call ? call.state : State.idle);
  renderCheckIn();
  renderRollCall();
}

// Check-in and roll call. The check-in form sends check_in when submitted,
// or at the next connection when it is not connected yet; the server does
// not answer a check-in that it accepts, and refuses one with an error.
function setupAttendance() {
  checkIn.declared = rememberedCheckIn();
  if (checkIn.declared) {
    ui.checkinDelegates.value = String(checkIn.declared.delegates);
    ui.checkinRepresentative.value = checkIn.declared.representative || '';
  }
  ui.checkin.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const raw = ui.checkinDelegates.value.trim();
    const delegates = Number(raw);
    if (raw === '' || !Number.isInteger(delegates) || delegates < 0 || delegates > 10000) {
      notify(ui.notices, t('checkin.invalid'));
      ui.checkinDelegates.focus();
      return;
    }
    checkIn.pending = { delegates, representative: ui.checkinRepresentative.value.trim() };
    checkIn.editing = false;
    sendCheckIn();
    renderCheckIn();
  });
  ui.checkinEdit.addEventListener('click', () => {
    checkIn.editing = true;
    renderCheckIn();
    ui.checkinDelegates.focus();
  });
  ui.rollcallConfirm.addEventListener('click', () => {
    if (!call || !call.send({ type: 'roll_call', action: 'confirm' })) {
      notify(ui.notices, t('floor.notconnected'));
      return;
    }
    clearTimeout(rollCallPending);
    rollCallPending = setTimeout(() => {
      rollCallPending = 0;
      renderRollCall();
    }, 3000);
    renderRollCall();
  });
  setInterval(tickRollCall, 500);
  renderCheckIn();
  renderRollCall();
}

function checkInKey() {
  return `hoinghi.checkin:${session.conference_id}:${session.point_id}`;
}

function rememberedCheckIn() {
  try {
    const v = JSON.parse(localStorage.getItem(checkInKey()) || 'null');
    return v && Number.isInteger(v.delegates) ? v : null;
  } catch {
    return null;
  }
}

// Sends the pending check-in if the call is connected.
function sendCheckIn() {
  const c = checkIn.pending;
  if (!c || !call) return;
  const msg = { type: 'check_in', delegates: c.delegates };
  if (c.representative) msg.representative = c.representative;
  if (!call.send(msg)) return;
  checkIn.pending = null;
  checkIn.declared = c;
  debug.checkIn = c;
  try {
    localStorage.setItem(checkInKey(), JSON.stringify(c));
  } catch {
    // Not remembered: the form starts empty on the next visit.
  }
  notify(ui.notices, t('checkin.sent', { n: c.delegates }), 5);
  renderCheckIn();
}

// The server refused the check-in: open the form again.
function checkInRefused() {
  checkIn.declared = null;
  checkIn.editing = true;
  try {
    localStorage.removeItem(checkInKey());
  } catch {
    // Nothing remembered.
  }
  renderCheckIn();
}

function renderCheckIn() {
  if (!session) return;
  const shown = checkIn.pending || checkIn.declared;
  const state = checkIn.pending ? 'pending' : checkIn.declared ? 'sent' : 'none';
  ui.attendance.dataset.checkin = state;
  const form = checkIn.editing || !shown;
  ui.checkin.hidden = !form;
  ui.checkinSummary.hidden = form;
  ui.checkinHint.hidden = !!shown;
  if (shown) {
    const text = t(state === 'pending' ? 'checkin.pending' : 'checkin.declared', { n: shown.delegates });
    ui.checkinText.textContent = shown.representative
      ? `${text} ${t('checkin.declared.representative', { name: shown.representative })}` : text;
  }
  ui.checkinSend.textContent = t(checkIn.declared ? 'checkin.update' : 'checkin.send');
}

// Shows the roll call while one is open: a large button until this point
// confirmed, with the time left to confirm in, then "confirmed".
function renderRollCall() {
  if (!session) return;
  const me = session.point_id;
  const confirmed = rollCall.hasConfirmed(me);
  const state = !rollCall.open ? 'none' : confirmed ? 'confirmed' : 'open';
  ui.attendance.dataset.rollcall = state;
  ui.rollcall.hidden = state === 'none';
  ui.rollcallConfirm.hidden = state !== 'open';
  ui.rollcallClock.hidden = state !== 'open';
  ui.rollcallDone.hidden = state !== 'confirmed';
  ui.rollcallConfirm.disabled = call?.state !== State.connected || !!rollCallPending;
  tickRollCall();
}

function tickRollCall() {
  if (!rollCall.open || ui.rollcallClock.hidden) return;
  const left = rollCall.remaining();
  if (left === null) {
    ui.rollcallClock.textContent = '';
  } else if (left > 0) {
    ui.rollcallClock.textContent = t('rollcall.left', { time: formatClock(left) });
    ui.rollcallClock.removeAttribute('data-over');
  } else {
    ui.rollcallClock.textContent = t('rollcall.late.hint');
    ui.rollcallClock.setAttribute('data-over', '');
  }
}

// The hall asked this page to reopen its camera (a frozen or black
// picture): close it, open the chosen camera again and publish it.
async function restartCamera() {
  if (!picker?.stream) return;
  try {
    const track = await picker.restart('video');
    if (track) {
      debug.cameraRestarts = (debug.cameraRestarts || 0) + 1;
      notify(ui.notices, t('control.restarted'), 8);
    }
  } catch (err) {
    console.warn('hoinghi: restarting the camera', err);
  }
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
    // The encoder ramps up after connecting: the send rate is the best
    // one-second window within four seconds, and the test ends as soon as a
    // window reaches what a picture needs.
    const samples = [{ at: performance.now(), bytes: videoBytesSent(await pub.getStats()) }];
    let second, kbps = 0;
    for (let i = 0; i < 8; i++) {
      await sleep(500);
      second = await pub.getStats();
      const now = { at: performance.now(), bytes: videoBytesSent(second) };
      samples.push(now);
      const from = samples[Math.max(0, samples.length - 3)];
      if (now.at > from.at) kbps = Math.max(kbps, Math.round(((now.bytes - from.bytes) * 8) / (now.at - from.at)));
      if (i >= 1 && kbps >= 150) break;
    }
    const pair = selectedPair(second) || {};
    const rtt = Math.round(pair.rtt ?? 0);
    const path = pair.candidateType === 'relay' ? 'relay' : pair.protocol === 'tcp' ? 'tcp' : 'udp';
    item(rtt < 150 && path === 'udp' ? 'ok' : rtt < 400 ? 'warn' : 'bad',
      t('check.media', { path: t('check.path.' + path), rtt }));
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
