// The hall console (/console/?t=TOKEN), for the technician and the chair:
// publishes the hall's program and shows every connection point, as a video
// wall in pages (the server sends the cameras of the tiles on the page
// only, in the slots of the hall's wall; see "The hall's wall" in
// docs/protocol.md) or as a sortable, searchable list, each with a link-quality dot: the
// grade the server gives with its link_quality figures (round trip, loss, bitrate,
// network), and its quality alerts in one list; measured from this page's own getStats
// until the server's first figures arrive. The technician's tab starts and ends the conference, runs the
// roll call, shows the delegates each point declared, and acts on a point:
// mute and unmute it, ask it for a keyframe, restart its camera, drop it.
// The chair's tab ("Chủ tọa") runs the floor: the queue of requests, giving
// the floor with a time limit, extending and taking it back, with the
// speaker large in the program view.

import { readToken } from './session.js';
import { Call, State, closingText } from './call.js';
import { AudioSinks, DevicePicker, LevelMeter, mediaAllowed, mediaErrorText, showVideo, useVideoLayers } from './media.js';
import { has, initLang, t } from './i18n.js';
import { PointBook, matches } from './points.js';
import { InboundQuality, reportOwnStats, selectedPair } from './stats.js';
import { Floor, clockTime, formatClock, showClock } from './floor.js';
import { CONTENT_STREAM, ContentView } from './content.js';
import { LivePanel, RecordingList, RecordingsAPI } from './recordings.js';
import { ReportFeed, RollCall, conferenceStage, conferenceStageText, formatTime, setTimeZone, showStage, timeZoneOfPage } from './attendance.js';
import {
  byId, debugInfo, h, notify, openSession, showDownlink, showRefusal, showSessionRefusal, showStatus,
} from './ui.js';

// How often the link quality of every point is measured, in milliseconds.
const QUALITY_INTERVAL = 2000;

// How long the server's link_quality figures of a point stand (it sends
// them every 2 s); after that this page's own measure shows again.
const SERVER_QUALITY_TTL = 7000;

// How often the attendance report is fetched when no attendance_changed
// comes, in milliseconds.
const REPORT_INTERVAL = 30000;

const ui = {
  body: document.body,
  title: byId('conf-title'),
  roleName: byId('role-name'),
  confStage: byId('conf-stage'),
  modes: byId('modes'),
  pointCount: byId('point-count'),
  videoCount: byId('video-count'),
  lang: byId('lang'),
  status: byId('status'),
  warning: byId('warning'),
  refusal: byId('refusal'),
  stage: byId('stage'),
  programVideo: byId('program-video'),
  programPlaceholder: byId('program-placeholder'),
  devices: byId('devices'),
  cameraSelect: byId('camera-select'),
  micSelect: byId('mic-select'),
  programAudio: byId('program-audio'),
  programPicture: byId('program-picture'),
  programSource: byId('program-source'),
  chairMicPanel: byId('chair-mic-panel'),
  chairMic: byId('chair-mic'),
  chairMicNote: byId('chair-mic-note'),
  meter: byId('mic-meter'),
  hallLink: byId('hall-link'),
  views: byId('views'),
  search: byId('search'),
  wallBox: byId('wall-box'),
  wall: byId('wall'),
  list: byId('list'),
  listBody: byId('list-body'),
  wallEmpty: byId('wall-empty'),
  pager: byId('pager'),
  pagePrev: byId('page-prev'),
  pageNext: byId('page-next'),
  pageLabel: byId('page-label'),
  notices: byId('notices'),
  downlinkNote: byId('downlink-note'),
  sinks: byId('audio-sinks'),
  unmute: byId('unmute'),
  program: byId('program'),
  programSpeaker: byId('program-speaker'),
  programLabel: byId('program-label'),
  floorAlert: byId('floor-alert'),
  floorAlertText: byId('floor-alert-text'),
  floorAlertClose: byId('floor-alert-close'),
  qualityAlerts: byId('quality-alerts'),
  chair: byId('chair'),
  floorHolders: byId('floor-holders'),
  speakerMeters: [byId('speaker-meter-tech'), byId('speaker-meter-chair')],
  floorLimit: byId('floor-limit'),
  floorNext: byId('floor-next'),
  floorDiscussion: byId('floor-discussion'),
  floorDiscussionOn: byId('floor-discussion-on'),
  floorQueue: byId('floor-queue'),
  queueCount: byId('queue-count'),
  confControl: byId('conf-control'),
  confState: byId('conf-state'),
  confStart: byId('conf-start'),
  confTesting: byId('conf-testing'),
  confReopen: byId('conf-reopen'),
  confEnd: byId('conf-end'),
  rollcallControl: byId('rollcall-control'),
  rollcallSeconds: byId('rollcall-seconds'),
  rollcallStart: byId('rollcall-start'),
  rollcallClose: byId('rollcall-close'),
  rollcallStatus: byId('rollcall-status'),
};

// Time limits the chair chooses from, in seconds: 0 is the conference's
// default speaking time, -1 no limit.
const LIMITS = [0, 180, 300, 420, 600, 900, 1200, -1];

// What "+1 phút" and "+3 phút" add to a turn, in seconds.
const EXTENSIONS = [60, 180];

const token = readToken();
const debug = debugInfo();
let session = null;
let call = null;
let stream = null; // the hall program we publish
// The content shared in the conference, above the wall while there is
// one. The hall shares its own (replacing a point's) and stops anyone's.
const contentStop = byId('content-stop');
const content = new ContentView({
  screen: byId('content'),
  video: byId('content-video'),
  label: byId('content-label'),
  placeholder: byId('content-placeholder'),
  button: byId('content-share'),
  call: () => call,
  notify: (text, seconds) => notify(ui.notices, text, seconds),
  layout: (active) => {
    ui.body.dataset.content = active ? 'on' : 'off';
    contentStop.hidden = !active || !!call?.contentTrack;
  },
});
contentStop.addEventListener('click', () => call?.send({ type: 'content', action: 'stop' }));
let warningText = null; // () => text of the warning shown, for a language switch
const book = new PointBook();
const tiles = new Map(); // point id -> tile element of the points on the wall's page
// The hall's wall: which point each slot shows (the server's wall_state),
// each slot's track and a stream of it alone, and the page shown.
const wall = {
  size: 16, // slots, as wall_state says
  shown: [], // point id of each slot
  tracks: new Map(), // slot index -> its video track
  streams: new Map(), // slot index -> MediaStream of that track alone
  sent: '', // the last wall request sent on this connection, as JSON
  page: 0,
};
let focus = ''; // the point shown large in the program view, chosen on its tile
let speakerVideo = null; // the speaker-video slot's track: the first floor holder's camera
const quality = new Map(); // point id -> {loss, jitter, rtt, fps, quality}, from this page's getStats
const serverQuality = new Map(); // participant id -> {rtt, loss, kbps, network, quality, at, server: true, client}
const qualityAlerts = new Map(); // point id -> {name, reason, value} of the server's quality alerts that stand, shown in #quality-alerts alone
const muted = new Set(); // participant ids a technician muted, as the roster says
const delegates = new Map(); // point id -> {delegates, representative} declared at check-in
const links = new Map(); // point id -> its current join link, for the technician
let invitedCount = 0; // invited points, from the API
let conferenceState = null; // the last conference_state
const rollCall = new RollCall();
let reports = null; // ReportFeed of the attendance report
const meter = new InboundQuality();
const sinks = new AudioSinks(ui.sinks, ui.unmute);
let sort = { key: 'name', dir: 1 };
const floor = new Floor();
let shownAlert = null; // {turnId, name, takenBack, timer} of the floor_alert shown
let recordings = null; // RecordingList of the technician's recording panel
let livestream = null; // LivePanel of the technician's livestream panel

function warn(text) {
  warningText = text;
  ui.warning.textContent = text();
  ui.warning.hidden = false;
}

async function main() {
  initLang(ui.lang);
  window.addEventListener('hoinghi:lang', redraw);
  session = await openSession(token, ui.refusal, ui.status);
  if (!session) return;
  useVideoLayers(session.video_layers);
  if (session.role === 'secretariat') {
    // The secretariat has its own page.
    window.location.replace('/secretariat/' + window.location.search);
    return;
  }
  setTimeZone(session.time_zone); // every time on the page in the conference's zone
  ui.title.textContent = session.conference_title || t('app.title');
  // The conference's name stays when the language changes.
  if (session.conference_title) delete ui.title.dataset.i18n;
  showStatus(ui.status, State.idle);

  if (session.role === 'point') {
    showRefusal(ui.refusal, {
      title: () => t('refusal.wrongpage.console.title'),
      message: () => t('refusal.wrongpage.console'),
      link: { href: '/point/' + window.location.search, text: () => t('refusal.wrongpage.console.link') },
      phone: session.technician_phone,
      reason: 'wrong_page',
    });
    return;
  }

  ui.body.dataset.step = 'live';
  ui.stage.hidden = false;
  ui.modes.hidden = false;
  setMode(session.role === 'chair' ? 'chair' : 'technician');
  setupControls();
  setupFloor();
  setupAttendance();
  if (session.role === 'technician') setupRecording();
  redraw();
  loadInvited();
  reports = new ReportFeed({ token, conferenceId: session.conference_id, onReport: applyReport });
  reports.start(REPORT_INTERVAL);

  stream = await openProgram();
  setupProgramAudio();
  renderProgram();
  call = new Call({
    token,
    stream,
    iceServers: session.ice_servers,
    content: true,
    on: {
      state: (state) => {
        showStatus(ui.status, state);
        renderFloor();
        renderAttendance();
        updateTiles();
      },
      welcome: () => {
        wall.sent = '';
        requestWall();
      },
      program: (msg) => {
        programState = msg;
        renderProgramAudio();
      },
      wall: (slots) => {
        wall.shown = slots;
        wall.size = Math.max(1, slots.length);
        render();
      },
      roster: (participants) => {
        const before = new Set([...book.points.values()].filter((p) => p.state === 'connected').map((p) => p.id));
        book.roster(participants);
        for (const p of book.points.values()) {
          if (p.state === 'connected') gone.delete(p.id);
          else if (before.has(p.id)) gone.set(p.id, Date.now());
        }
        hallConsoles = participants.filter((p) => p.role === 'technician' || p.role === 'chair' || p.role === 'ingest');
        renderProgramAudio();
        muted.clear();
        for (const p of participants) if (p.muted) muted.add(p.id);
        const present = new Set(participants.map((p) => p.id));
        for (const id of qualityAlerts.keys()) if (!present.has(id)) qualityAlerts.delete(id);
        renderQualityAlerts();
        render();
      },
      track: (id, remote, track, name) => {
        if (id === CONTENT_STREAM) {
          content.setTrack(track);
          return;
        }
        addTrack(id, track, name);
      },
      content: (msg) => content.update(msg),
      contentEnded: (reason) => content.ended(reason),
      streamEnded: (id) => {
        if (id === WALL_STREAM) {
          wall.tracks.clear();
          wall.streams.clear();
        } else if (id === SPEAKER_STREAM) {
          speakerVideo = null;
          sinks.clear();
        }
        for (const tile of tiles.values()) attachTile(tile, null);
        render();
      },
      remoteReset: () => {
        content.reset();
        wall.tracks.clear();
        wall.streams.clear();
        wall.shown = [];
        wall.sent = '';
        speakerVideo = null;
        sinks.clear();
        meter.reset();
        quality.clear();
        serverQuality.clear();
        qualityAlerts.clear();
        renderQualityAlerts();
        for (const tile of tiles.values()) attachTile(tile, null);
        renderProgram();
      },
      notice: (text) => notify(ui.notices, text),
      downlink: (state) => showDownlink(ui.downlinkNote, state),
      mediaState: (msg) => {
        if (msg.state === 'failed') notify(ui.notices, t('media.failed'), 60);
      },
      floor: (msg, fresh) => {
        const before = floor.defaultSeconds;
        if (!floor.update(msg, fresh)) return;
        if (floor.defaultSeconds !== before) fillLimits();
        renderFloor();
      },
      floorAlert: showAlert,
      rollCall: (msg) => {
        rollCall.update(msg);
        renderAttendance();
      },
      conference: (msg) => {
        conferenceState = msg;
        renderAttendance();
        recordings?.update(msg);
        livestream?.update(msg);
      },
      attendance: () => reports.nudge(),
      linkQuality: applyLinkQuality,
      qualityAlert: applyQualityAlert,
      closed: (reason, message) => {
        showRefusal(ui.refusal, {
          title: () => t('refusal.closed.console'),
          message: () => closingText(reason, message),
          phone: session.technician_phone,
          reason,
        });
        release();
      },
      refused: (refusal) => {
        showSessionRefusal(ui.refusal, refusal);
        release();
      },
    },
  });
  call.start();
  setInterval(() => measure().catch((err) => console.warn('hoinghi: link quality', err)), QUALITY_INTERVAL);
  // How long the points that left have been gone, on their tiles and rows.
  setInterval(() => {
    if (gone.size > 0) {
      updateTiles();
      renderList();
    }
  }, 5000);
  reportOwnStats({ pcs: () => debug.pcs, send: (msg) => call.send(msg), onReport: (r) => { debug.ownStats = r; }, interval: QUALITY_INTERVAL });
}

// Calls GET path of the API with the page's link, or its login cookie
// when it has none, and resolves to the JSON answer.
async function getJSON(path) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(path, { headers, cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

// Lists every invited point, so that the list view also shows who has not
// connected yet, and, for the technician, the points' links.
async function loadInvited() {
  try {
    const points = await getJSON(`/api/conferences/${encodeURIComponent(session.conference_id)}/points`);
    invitedCount = points.length;
    book.invite(points.map((p) => ({ point_id: p.id, name: p.name })));
    render();
    renderAttendance();
  } catch (err) {
    console.warn('hoinghi: invited points', err);
  }
  if (session.role === 'technician') await loadLinks().catch((err) => console.warn('hoinghi: links', err));
}

// Fetches the current link of every invited point (technician only).
async function loadLinks() {
  const list = await getJSON(`/api/conferences/${encodeURIComponent(session.conference_id)}/links`);
  links.clear();
  for (const l of list) if (l.role === 'point' && l.point_id) links.set(l.point_id, l.url);
  renderList();
}

// Copies point id's link for the technician to send it on; the links are
// fetched again first, since a link may have been reissued meanwhile. When
// the clipboard is out of reach the link is shown to copy by hand.
async function copyLink(id) {
  const name = book.points.get(id)?.name || id;
  try {
    await loadLinks();
  } catch (err) {
    console.warn('hoinghi: links', err);
  }
  const url = links.get(id);
  if (!url) {
    notify(ui.notices, t('console.pointlink.none', { name }));
    return;
  }
  try {
    await navigator.clipboard.writeText(url);
    notify(ui.notices, t('console.pointlink.copied', { name }), 5);
  } catch {
    window.prompt(t('console.pointlink.prompt', { name }), url);
  }
}

function setupControls() {
  ui.modes.addEventListener('click', (ev) => {
    const mode = ev.target.closest('[data-mode]')?.dataset.mode;
    if (mode) setMode(mode);
  });
  ui.views.addEventListener('click', (ev) => {
    const view = ev.target.closest('[data-view]')?.dataset.view;
    if (!view) return;
    ui.body.dataset.view = view;
    markSelected(ui.views, 'view', view);
    render();
  });
  markSelected(ui.views, 'view', ui.body.dataset.view);
  ui.search.addEventListener('input', () => {
    wall.page = 0;
    render();
  });
  ui.pagePrev.addEventListener('click', () => {
    wall.page--;
    render();
  });
  ui.pageNext.addEventListener('click', () => {
    wall.page++;
    render();
  });
  ui.wall.addEventListener('click', (ev) => {
    const button = ev.target.closest('[data-focus-target]');
    if (button) toggleFocus(button.dataset.focusTarget);
  });
  ui.list.querySelector('thead').addEventListener('click', (ev) => {
    const key = ev.target.closest('[data-sort]')?.dataset.sort;
    if (!key) return;
    sort = { key, dir: sort.key === key ? -sort.dir : 1 };
    renderList();
  });
}

function setMode(mode) {
  ui.body.dataset.mode = mode;
  markSelected(ui.modes, 'mode', mode);
  renderProgram();
  ui.roleName.textContent = t(mode === 'chair' ? 'role.chair' : 'role.technician');
  document.title = `${t(mode === 'chair' ? 'role.chair' : 'console.title')} – ${session?.conference_title || t('app.title')}`;
  layoutWall();
}

function markSelected(container, attr, value) {
  for (const b of container.querySelectorAll(`[data-${attr}]`)) b.setAttribute('aria-pressed', String(b.dataset[attr] === value));
}

// Opens the hall camera and microphone. Without them the console still shows the
// points, so failures become a warning and an empty stream.
async function openProgram() {
  if (!mediaAllowed()) {
    warn(() => t('console.insecure'));
    return new MediaStream();
  }
  const picker = new DevicePicker({
    video: ui.programVideo,
    cameraSelect: ui.cameraSelect,
    micSelect: ui.micSelect,
    meter: new LevelMeter(ui.meter),
    onTrack: (track) => {
      renderProgram();
      call?.replaceTrack(track).catch((err) => console.warn('hoinghi: replaceTrack', err));
    },
    onError: (text) => notify(ui.notices, text),
  });
  try {
    return await picker.start();
  } catch (err) {
    console.warn('hoinghi: getUserMedia', err);
    warn(() => t('console.mediafail', { error: mediaErrorText(err) }));
    return new MediaStream();
  }
}

// The hall program the points receive (the server's program message):
// which console its picture and sound come from; and the hall's consoles
// connected, for the technician's choice of the sound.
let programState = { video: '', audio: '', chosen: false };
let hallConsoles = [];

// The chair's microphone is off until the chair turns it on: the hall's
// sound usually comes from the technician's console (the hall's mixer);
// two microphones in one room would echo in every district.
let chairMicOn = false;

// Sets up the technician's choice of the program's sound and the chair's
// microphone switch.
function setupProgramAudio() {
  ui.programAudio.addEventListener('change', () => {
    if (!call || !call.send({ type: 'control', action: 'program_audio', participant_id: ui.programAudio.value })) {
      notify(ui.notices, t('floor.notconnected'));
      renderProgramAudio();
    }
  });
  ui.programPicture.addEventListener('change', () => {
    if (!call || !call.send({ type: 'control', action: 'program_video', participant_id: ui.programPicture.value })) {
      notify(ui.notices, t('floor.notconnected'));
      renderProgramAudio();
    }
  });
  if (session.role === 'chair') {
    ui.chairMicPanel.hidden = false;
    setChairMic(false);
    ui.chairMic.addEventListener('click', () => setChairMic(!chairMicOn));
  }
}

// Turns the chair's microphone on or off: its track keeps flowing, silent
// while off.
function setChairMic(on) {
  chairMicOn = on;
  for (const track of stream?.getAudioTracks() || []) track.enabled = on;
  ui.chairMic.setAttribute('aria-pressed', String(on));
  ui.chairMic.textContent = t(on ? 'chair.mic.off' : 'chair.mic.on');
  debug.chairMic = on;
  renderProgramAudio();
}

// Returns the name of hall console id for the program's notes.
function consoleName(id) {
  const p = hallConsoles.find((x) => x.id === id);
  if (!p) return t('program.none');
  if (p.role === 'ingest') return t('role.ingest');
  return p.role === 'chair' ? t('role.chair') : t('role.technician');
}

// Shows where the program's sound comes from, and the technician's choice.
function renderProgramAudio() {
  const options = [h('option', { value: '' }, t('program.audio.default'))];
  for (const p of hallConsoles) {
    const label = `${consoleName(p.id)}${p.id === call?.debug?.participantId ? ` (${t('program.audio.self')})` : ''}`;
    options.push(h('option', { value: p.id }, label));
  }
  ui.programAudio.replaceChildren(...options);
  ui.programAudio.value = programState.chosen ? programState.audio : '';
  const pictures = [h('option', { value: '' }, t('program.video.default'))];
  for (const p of hallConsoles) {
    const label = `${consoleName(p.id)}${p.id === call?.debug?.participantId ? ` (${t('program.audio.self')})` : ''}`;
    pictures.push(h('option', { value: p.id }, label));
  }
  ui.programPicture.replaceChildren(...pictures);
  ui.programPicture.value = programState.video_chosen ? programState.video : '';
  ui.body.dataset.programVideo = programState.video || '';
  ui.programSource.textContent = programState.audio
    ? t('program.source', { audio: consoleName(programState.audio), video: consoleName(programState.video) })
    : t('program.source.none');
  ui.body.dataset.programAudio = programState.audio || '';
  if (session?.role === 'chair') {
    const mine = programState.audio === call?.debug?.participantId;
    ui.chairMicNote.textContent = !chairMicOn ? t('chair.mic.offnote')
      : mine ? t('chair.mic.live') : t('chair.mic.notchosen');
  }
}

// The streams of slots: the hall's wall and the speaker slots (the floor
// holders' camera and voices).
const WALL_STREAM = 'wall';
const SPEAKER_STREAM = 'speaker';

// Keeps a track of the subscribe connection: a wall slot (wall-N), or a
// speaker slot, whose voices play each in an <audio> of its own.
function addTrack(id, track, name) {
  if (id === WALL_STREAM) {
    const i = Number((name || '').replace(/^wall-/, ''));
    if (!Number.isInteger(i) || i < 0) {
      console.warn('hoinghi: wall track without a slot name', name);
      return;
    }
    wall.tracks.set(i, track);
    wall.streams.set(i, new MediaStream([track]));
    track.addEventListener('mute', updateTiles);
    track.addEventListener('unmute', updateTiles);
    render();
    return;
  }
  if (id === SPEAKER_STREAM) {
    if (track.kind === 'audio') {
      const voice = new MediaStream([track]);
      sinks.set(name || track.id, voice);
      // The first voice's level, on the console: is the speaker heard?
      if ((name || '') === 'speaker-audio-0') {
        speakerMeters ||= ui.speakerMeters.map((bar) => new LevelMeter(bar));
        for (const m of speakerMeters) m.attach(voice);
      }
    } else {
      speakerVideo = track;
      track.addEventListener('unmute', renderProgram);
    }
    renderProgram();
    return;
  }
  console.debug('hoinghi: console ignores track of stream', id);
}

// Returns the stream of the wall slot that shows point id, or null.
function streamOf(id) {
  const i = id ? wall.shown.indexOf(id) : -1;
  return i >= 0 ? wall.streams.get(i) || null : null;
}

// Tiles a page holds: the wall's slots, less one for the point shown large
// when it is not on the page.
function pageSize() {
  return Math.max(1, wall.size - (focus ? 1 : 0));
}

// Asks the server for the cameras of the point shown large and of the
// tiles on the page, once for each change (and again on a new connection).
function requestWall() {
  if (!call) return;
  const ids = [];
  if (focus) ids.push(focus);
  for (const id of tiles.keys()) if (id !== focus) ids.push(id);
  const json = JSON.stringify(ids);
  if (json === wall.sent) return;
  if (call.send({ type: 'wall', participants: ids })) wall.sent = json;
  debug.wallRequest = ids;
}

// Shows point id large in the program view, or stops when it is shown.
function toggleFocus(id) {
  focus = focus === id ? '' : id;
  render();
  renderProgram();
}

function release() {
  sinks.clear();
  for (const track of stream?.getTracks() || []) track.stop();
}

// The wall shows the points connected now and those that left during this
// session (as disconnected, until they come back); invited points that never
// connected appear in the list only.
function wallPoints() {
  return book.list().filter((p) => p.state !== 'invited');
}

// The wall shows one page of the points that match the search; only the
// page's tiles have cameras (the server sends them in the wall's slots).
function render() {
  const query = ui.search.value;
  const onWall = wallPoints();
  const matching = onWall.filter((p) => matches(p.name, query));
  const size = pageSize();
  const pages = Math.max(1, Math.ceil(matching.length / size));
  wall.page = Math.min(Math.max(0, wall.page), pages - 1);
  const page = matching.slice(wall.page * size, (wall.page + 1) * size);
  const present = new Set(page.map((p) => p.id));
  for (const [id, tile] of tiles) {
    if (!present.has(id)) {
      tile.querySelector('video').srcObject = null;
      tile.remove();
      tiles.delete(id);
    }
  }
  page.forEach((p, i) => {
    let tile = tiles.get(p.id);
    if (!tile) {
      tile = newTile(p);
      tiles.set(p.id, tile);
    }
    attachTile(tile, streamOf(p.id));
    tile.querySelector('.tile-name').textContent = p.name;
    tile.dataset.point = p.state;
    tile.dataset.focus = String(p.id === focus);
    tile.querySelector('.tile-focus').textContent = t(p.id === focus ? 'console.focus.off' : 'console.focus');
    if (ui.wall.children[i] !== tile) ui.wall.insertBefore(tile, ui.wall.children[i] || null);
  });
  ui.pager.hidden = pages <= 1 || ui.body.dataset.view === 'list';
  ui.pageLabel.textContent = t('console.page', { n: wall.page + 1, of: pages });
  ui.pagePrev.disabled = wall.page === 0;
  ui.pageNext.disabled = wall.page >= pages - 1;
  debug.wallPage = { page: wall.page, pages, size, tiles: [...tiles.keys()] };
  requestWall();
  const n = book.connectedCount();
  ui.pointCount.textContent = String(n);
  ui.wall.dataset.count = String(page.length);
  const listView = ui.body.dataset.view === 'list';
  ui.wallBox.hidden = listView;
  ui.list.hidden = !listView;
  const empty = listView ? book.points.size === 0 : onWall.length === 0;
  const noMatch = !empty && (listView ? !book.list().some((p) => matches(p.name, query)) : matching.length === 0);
  ui.wallEmpty.hidden = !empty && !noMatch;
  ui.wallEmpty.textContent = t(noMatch ? 'console.nomatch' : 'console.empty');
  layoutWall();
  updateTiles();
  markTiles();
  renderList();
}

// Chooses the number of columns that makes the 16:9 tiles largest while the
// whole wall fits its area; below MIN_TILE_WIDTH the wall scrolls instead.
const MIN_TILE_WIDTH = 200;
const TILE_GAP = 8;

function layoutWall() {
  const n = Math.max(1, Number(ui.wall.dataset.count) || 1);
  const width = ui.wallBox.clientWidth;
  const height = ui.wallBox.clientHeight;
  if (!width || !height) return;
  let bestCols = 1;
  let bestWidth = 0;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((width - (cols - 1) * TILE_GAP) / cols, ((height - (rows - 1) * TILE_GAP) / rows) * 16 / 9);
    if (w > bestWidth) {
      bestWidth = w;
      bestCols = cols;
    }
  }
  if (bestWidth < MIN_TILE_WIDTH) {
    bestCols = Math.max(1, Math.floor((width + TILE_GAP) / (MIN_TILE_WIDTH + TILE_GAP)));
    bestWidth = (width - (bestCols - 1) * TILE_GAP) / bestCols;
  }
  ui.wall.style.setProperty('--cols', String(bestCols));
  ui.wall.style.setProperty('--tile-width', `${Math.floor(bestWidth)}px`);
}

new ResizeObserver(layoutWall).observe(ui.wallBox);

function newTile(p) {
  const video = h('video', { muted: true, autoplay: true, playsinline: true });
  video.addEventListener('loadeddata', updateTiles);
  video.addEventListener('resize', updateTiles);
  return h('div', { class: 'tile', 'data-participant': p.id, 'data-state': 'waiting', 'data-floor': 'none' },
    video,
    h('div', { class: 'placeholder' }, t('tile.nopicture')),
    h('div', { class: 'tile-floor' }, h('span', { class: 'tile-badge' }), h('span', { class: 'clock' })),
    h('button', { class: 'btn btn-small tile-action chair-only', type: 'button', 'data-target': p.id }),
    h('button', { class: 'btn btn-small tile-focus', type: 'button', 'data-focus-target': p.id }, t('console.focus')),
    h('div', { class: 'tile-controls technician-only' }, ...controlButtons(p.id, true)),
    h('span', { class: 'tile-muted', hidden: true }, t('control.tile.muted')),
    h('div', { class: 'tile-caption' },
      h('span', { class: 'dot', 'data-quality': 'none' }),
      h('span', { class: 'tile-name' }, p.name),
      h('span', { class: 'tile-delegates' }, ''),
      h('span', { class: 'tile-state' }, '')),
    h('span', { class: 'tile-stats', hidden: true }));
}

function attachTile(tile, remote) {
  const video = tile.querySelector('video');
  if (remote) {
    if (video.srcObject !== remote) showVideo(video, remote);
  } else if (video.srcObject) {
    video.srcObject = null;
  }
  updateTiles();
}

// Returns the tile state of point p: "live" once its video shows frames,
// "offline" while it is not connected, else "waiting".
function tileState(p, tile) {
  if (p.state !== 'connected') return 'offline';
  const video = tile.querySelector('video');
  const remote = streamOf(p.id);
  const track = remote?.getVideoTracks()[0];
  const showing = !!track && !track.muted && video.srcObject === remote &&
    video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0;
  return showing ? 'live' : 'waiting';
}

// The meters of the speaker's voice (speaker-audio-0), made at its first
// track.
let speakerMeters = null;

// When each point that was connected went away (unix milliseconds): seen
// leave by this console, or its last leave in the attendance report.
const gone = new Map();

function stateText(p, state) {
  if (p.state === 'invited') return t('tile.invited');
  if (state === 'offline' && gone.has(p.id)) return t('tile.gone', { time: goneText(Date.now() - gone.get(p.id)) });
  return t('tile.' + state);
}

// Returns how long a point has been gone: "45 giây", "3 phút", "1 giờ 5 phút".
function goneText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t('duration.s', { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('duration.m', { m });
  return t('duration.hm', { h: Math.floor(m / 60), m: String(m % 60).padStart(2, '0') });
}

function updateTiles() {
  let live = 0;
  for (const [id, tile] of tiles) {
    const p = book.points.get(id);
    if (!p) continue;
    const state = tileState(p, tile);
    tile.dataset.state = state;
    tile.querySelector('.placeholder').hidden = state === 'live';
    tile.querySelector('.placeholder').textContent = t(state === 'offline' ? 'tile.offline' : 'tile.nopicture');
    tile.querySelector('.tile-state').textContent = stateText(p, state);
    const q = state === 'offline' ? null : qualityOf(id);
    showQuality(tile.querySelector('.dot'), q);
    tile.querySelector('.tile-caption').title = qualityTitle(q);
    showTileStats(tile.querySelector('.tile-stats'), q);
    tile.dataset.alert = qualityAlerts.has(id) ? 'poor' : 'ok';
    const d = delegates.get(id);
    tile.querySelector('.tile-delegates').textContent = d ? t('tile.delegates', { n: d.delegates }) : '';
    tile.dataset.muted = String(muted.has(id));
    tile.querySelector('.tile-muted').hidden = !muted.has(id);
    setControls(tile.querySelector('.tile-controls'), p);
    if (state === 'live') live++;
  }
  ui.videoCount.textContent = String(live);
}

// Returns the link quality to show for participant id: the server's
// figures while they are fresh, else this page's own measure, else null.
function qualityOf(id) {
  const s = serverQuality.get(id);
  if (s && Date.now() - s.at < SERVER_QUALITY_TTL) return s;
  return quality.get(id) || null;
}

// Applies the server's link_quality: every participant's round trip, loss,
// bitrate and network, and the grade the server gives them (good, fair,
// poor: poor exactly while a quality alert stands, see "Quality alerts" in
// docs/protocol.md). The list, the tiles and the alert list all show that
// one grade, from the same figures.
function applyLinkQuality(msg) {
  const at = Date.now();
  const listed = new Map();
  for (const p of Array.isArray(msg.participants) ? msg.participants : []) {
    if (!p.id) continue;
    listed.set(p.id, p);
    serverQuality.set(p.id, {
      server: true,
      rtt: Number(p.rtt_ms) || 0,
      loss: (Number(p.loss_percent) || 0) / 100,
      kbps: Number(p.kbps) || 0,
      network: p.network || '',
      quality: ['good', 'fair', 'poor'].includes(p.grade) ? p.grade : 'none',
      client: clientFigures(p),
      alert: p.alert || '',
      layers: layerFigures(p),
      at,
    });
  }
  // The figures say which alerts stand, and their figures: they catch up
  // a console that connected, or reconnected, after an alert was sent.
  let changed = false;
  for (const id of [...qualityAlerts.keys()]) {
    if (!listed.get(id)?.alert) {
      qualityAlerts.delete(id);
      changed = true;
    }
  }
  for (const [id, p] of listed) {
    if (!p.alert) continue;
    const before = qualityAlerts.get(id);
    const a = { name: book.points.get(id)?.name || before?.name || id, reason: p.alert, value: p.alert_value };
    if (!before || before.reason !== a.reason || before.value !== a.value || before.name !== a.name) {
      qualityAlerts.set(id, a);
      changed = true;
    }
  }
  if (changed) renderQualityAlerts();
  updateTiles();
  renderList();
}

// Returns the client-side figures of a link_quality entry (the point's own
// stats report), each undefined when the report did not give it.
function clientFigures(p) {
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    sendKbps: num(p.send_kbps),
    width: num(p.send_width),
    height: num(p.send_height),
    sendFps: num(p.send_fps),
    limit: p.send_limit || '',
    recvKbps: num(p.recv_kbps),
    recvLoss: num(p.recv_loss_percent),
    jitter: num(p.jitter_ms),
    recvFps: num(p.recv_fps),
    rtt: num(p.client_rtt_ms),
    network: p.client_network || '',
    candidate: p.client_candidate || '',
  };
}

// Returns the simulcast figures of a link_quality entry: the encodings the
// participant sends (RIDs, lowest first), how many receive each, what its
// own video tracks carry, its downlink's estimate and state.
function layerFigures(p) {
  const counts = (m) => (m && typeof m === 'object' ? m : {});
  return {
    send: Array.isArray(p.send_layers) ? p.send_layers : [],
    viewers: counts(p.viewers),
    receives: counts(p.receives),
    reduced: typeof p.reduced_rate === 'number' ? p.reduced_rate : 0,
    temporal: counts(p.send_temporal),
    estimate: typeof p.down_estimate_kbps === 'number' ? p.down_estimate_kbps : undefined,
    downlink: p.downlink || '',
  };
}

// The RIDs of the encodings, lowest first.
const RID_ORDER = { q: 0, h: 1, f: 2, '': 3 };

// Returns "q h f → f": the encodings a participant sends, and those its own
// video tracks receive; "–" for none.
function layersText(l) {
  const rid = (r) => (r === '' ? '1' : r);
  const send = l.send.length ? l.send.map(rid).join(' ') : '–';
  const recv = Object.keys(l.receives).sort((a, b) => (RID_ORDER[a] ?? 9) - (RID_ORDER[b] ?? 9)).map(rid).join(' ') || '–';
  return `${send} → ${recv}`;
}

// Returns the tooltip of a participant's layers: viewers per encoding and
// the downlink's estimate.
function layersTitle(l) {
  const list = (m) => Object.entries(m).map(([r, n]) => `${r || '1'}×${n}`).join(', ') || t('layers.none');
  const temporal = Math.max(0, ...Object.values(l.temporal));
  return t('layers.title', {
    send: (l.send.map((r) => r || '1').join(' ') || t('layers.none')) + (temporal > 1 ? ` (${t('layers.temporal', { n: temporal })})` : ''),
    viewers: list(l.viewers), recv: list(l.receives),
    est: l.estimate === undefined ? '–' : String(Math.round(l.estimate)),
  }) + (l.reduced > 0 ? ` ${t('layers.reduced_rate', { n: l.reduced })}` : '');
}

// Applies a quality_alert: a point's link became poor (shown in the alert
// list until it recovers) or recovered. The alert list is the one place
// an alert shows: no notice repeats it. window.hoinghi.qualityAlerts keeps
// the last 100 messages, for the tests.
function applyQualityAlert(msg) {
  const id = msg.participant_id;
  if (!id) return;
  const log = (debug.qualityAlerts ||= []);
  log.push(msg);
  if (log.length > 100) log.shift();
  const name = msg.name || book.points.get(id)?.name || id;
  if (msg.level === 'poor') qualityAlerts.set(id, { name, reason: msg.reason || '', value: msg.value });
  else qualityAlerts.delete(id);
  renderQualityAlerts();
  updateTiles();
  renderList();
}

// Returns the sentence of a standing alert: "Chất lượng kém: <name> — mất gói 12%".
function qualityAlertText(a) {
  const key = 'quality.reason.' + a.reason;
  const v = typeof a.value === 'number' && Number.isFinite(a.value) ? a.value : undefined;
  const value = v === undefined ? '–' : a.reason === 'rtt' || a.reason === 'no_media' ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
  const reason = has(key) ? t(key, { value }) : t('quality.reason.other');
  return t('quality.alert', { name: a.name, reason });
}

function renderQualityAlerts() {
  const items = [...qualityAlerts.entries()].sort((a, b) => a[1].name.localeCompare(b[1].name, 'vi'));
  ui.qualityAlerts.replaceChildren(...items.map(([id, a]) => h('li', {
    class: 'quality-alert', 'data-participant': id, 'data-reason': a.reason,
  }, qualityAlertText(a))));
  ui.qualityAlerts.hidden = items.length === 0;
}

// Returns "1280×720" for the client figures c, or "–".
function resolutionText(c) {
  return c?.width && c?.height ? `${c.width}×${c.height}` : '–';
}

// Returns the text of the transport a point's browser reports.
function clientNetworkText(c) {
  if (!c?.network) return '–';
  const net = c.network.toUpperCase();
  return c.candidate === 'relay' ? `TURN/${net}` : net;
}

// Shows a point's own figures on its tile: resolution@fps, send and receive kbps.
function showTileStats(node, q) {
  const c = q?.server ? q.client : null;
  const parts = [];
  if (c?.width && c?.height) parts.push(c.sendFps !== undefined ? `${resolutionText(c)}@${Math.round(c.sendFps)}` : resolutionText(c));
  if (c?.sendKbps !== undefined || c?.recvKbps !== undefined) {
    const k = (v) => (v === undefined ? '–' : String(Math.round(v)));
    parts.push(`↑${k(c.sendKbps)} ↓${k(c.recvKbps)} kbps`);
  }
  node.textContent = parts.join(' · ');
  node.hidden = parts.length === 0;
}

/** Returns the text of a network the server names (udp, tcp, relay). */
function networkText(network) {
  return network ? t('network.' + (['udp', 'tcp', 'relay'].includes(network) ? network : 'other')) : '–';
}

function qualityTitle(q) {
  if (!q) return t('quality.none');
  const detail = q.server
    ? t('quality.server', {
      rtt: Math.round(q.rtt),
      loss: (q.loss * 100).toFixed(1),
      kbps: Math.round(q.kbps),
      network: networkText(q.network),
    })
    : t('quality.detail', {
      loss: q.loss === undefined ? '–' : (q.loss * 100).toFixed(1),
      jitter: Math.round(q.jitter),
      fps: Math.round(q.fps),
    });
  return [`${t('quality.' + q.quality)}: ${detail}`, ...clientLines(q.server ? q.client : null)].join('\n');
}

// Returns the lines of a tooltip that tell a point's own figures.
function clientLines(c) {
  if (!c) return [];
  const n = (v, digits = 0) => (v === undefined ? '–' : v.toFixed(digits));
  const lines = [];
  if (c.width || c.sendKbps !== undefined) {
    let line = t('quality.client.send', { res: resolutionText(c), fps: n(c.sendFps), kbps: n(c.sendKbps) });
    if (c.limit && c.limit !== 'none') line += ` (${t('quality.limit.' + (['cpu', 'bandwidth'].includes(c.limit) ? c.limit : 'other'))})`;
    lines.push(line);
  }
  if (c.recvKbps !== undefined || c.jitter !== undefined) {
    lines.push(t('quality.client.recv', { kbps: n(c.recvKbps), loss: n(c.recvLoss, 1), jitter: n(c.jitter), fps: n(c.recvFps) }));
  }
  if (c.network || c.rtt !== undefined) lines.push(t('quality.client.pair', { network: clientNetworkText(c), rtt: n(c.rtt) }));
  return lines;
}

function showQuality(dot, q) {
  dot.dataset.quality = q ? q.quality : 'none';
  dot.title = qualityTitle(q);
}

// Measures the link quality of every point from the subscribe
// PeerConnection's inbound video (see THRESHOLDS in stats.js), and the hall's
// own round trip from its selected candidate pair.
async function measure() {
  const pc = debug.pcs.subscribe;
  if (!pc) return;
  const owner = (trackId) => {
    for (const [i, track] of wall.tracks) if (track.id === trackId) return wall.shown[i] || '';
    return '';
  };
  const measured = await meter.sample(pc, owner);
  for (const [id, q] of measured) quality.set(id, q);
  for (const id of quality.keys()) if (!wall.shown.includes(id)) quality.delete(id);
  const pair = selectedPair(await pc.getStats());
  ui.hallLink.textContent = pair?.rtt !== undefined ? t('console.link', { rtt: Math.round(pair.rtt) }) : '';
  updateTiles();
  renderList();
}

const STATE_ORDER = { live: 0, offpage: 1, waiting: 2, offline: 3, invited: 4 };
const QUALITY_ORDER = { good: 0, fair: 1, poor: 2, none: 3 };

function listState(p) {
  if (p.state === 'invited') return 'invited';
  if (p.state !== 'connected') return 'offline';
  const tile = tiles.get(p.id);
  return tile ? tileState(p, tile) : 'offpage';
}

function renderList() {
  if (ui.list.hidden) return;
  const query = ui.search.value;
  const rows = book.list().filter((p) => matches(p.name, query)).map((p) => {
    const state = listState(p);
    const q = state === 'offline' || state === 'invited' ? null : qualityOf(p.id);
    return { p, state, q };
  });
  const cmp = {
    name: () => 0,
    state: (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state],
    quality: (a, b) => QUALITY_ORDER[a.q?.quality || 'none'] - QUALITY_ORDER[b.q?.quality || 'none'],
  }[sort.key];
  // book.list() is in name order already: a stable sort keeps it within ties.
  rows.sort((a, b) => sort.dir * (cmp(a, b) || (sort.key === 'name' ? a.p.name.localeCompare(b.p.name, 'vi', { numeric: true }) : 0)));
  for (const th of ui.list.querySelectorAll('[data-sort]')) {
    th.closest('th').setAttribute('aria-sort', th.dataset.sort === sort.key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
  ui.listBody.replaceChildren(...rows.map(({ p, state, q }) => {
    const dot = h('span', { class: 'dot' });
    showQuality(dot, q);
    const d = delegates.get(p.id);
    const fixed = (v, digits) => (v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(digits));
    return h('tr', {
      'data-participant': p.id, 'data-state': state, 'data-floor': floorOf(p.id), 'data-muted': String(muted.has(p.id)),
      'data-source': q ? (q.server ? 'server' : 'page') : 'none',
    },
    h('td', { class: 'list-name' }, p.name, muted.has(p.id) ? h('span', { class: 'list-muted' }, ' ', t('control.tile.muted')) : null,
      h('div', { class: 'technician-only list-link' }, linkButton(p))),
    h('td', {}, stateText(p, state)),
    h('td', { class: 'list-quality', title: qualityTitle(q) }, dot, ' ', q ? t('quality.short.' + q.quality) : '–'),
    h('td', { class: 'num list-rtt' }, q && q.rtt !== undefined ? fixed(q.rtt, q.rtt < 10 ? 1 : 0) : '–'),
    h('td', { class: 'num list-loss' }, q && q.loss !== undefined ? fixed(q.loss * 100, 1) : '–'),
    h('td', { class: 'num list-kbps' }, q?.server ? fixed(q.kbps, 0) : '–'),
    h('td', { class: 'list-network' }, q?.server ? networkText(q.network) : '–'),
    h('td', { class: 'num list-resolution' }, q?.server ? resolutionText(q.client) : '–'),
    h('td', { class: 'num list-fps' }, q?.server ? fixed(q.client.sendFps, 0) : '–'),
    h('td', { class: 'num list-jitter' }, q?.server ? fixed(q.client.jitter, 0) : '–'),
    h('td', { class: 'num list-recv' }, q?.server ? fixed(q.client.recvKbps, 0) : '–'),
    layersCell(q),
    h('td', { class: 'num list-delegates', title: d?.representative || '' }, d ? String(d.delegates) : '–'),
    h('td', {}, p.state === 'connected' && p.since ? formatTime(p.since.toISOString(), timeZoneOfPage()) : ''),
    h('td', { class: 'chair-only list-floor' }, floorButton(p, h('button', { class: 'btn btn-small', type: 'button', 'data-target': p.id }))),
    h('td', { class: 'technician-only list-control' }, setControls(h('div', { class: 'control-buttons' }, ...controlButtons(p.id, true)), p)));
  }));
}

// Returns the cell of a point's simulcast layers: what it sends and
// receives, marked when its link holds it to lower encodings.
function layersCell(q) {
  const l = q?.server ? q.layers : null;
  if (!l) return h('td', { class: 'list-layers' }, '–');
  const limited = l.downlink === 'reduced' || l.downlink === 'audio_only';
  return h('td', { class: 'list-layers', title: layersTitle(l), 'data-downlink': l.downlink || 'unknown' },
    layersText(l), l.reduced > 0 ? h('span', { class: 'list-reduced', 'data-reduced': String(l.reduced) }, ' ½') : null,
    limited ? h('span', { class: 'list-limited' }, ' ⚠ ', t(l.downlink === 'audio_only' ? 'layers.audio_only' : 'layers.limited')) : null);
}

// Returns the button that copies point p's link, which carries the link in
// data-url once known.
function linkButton(p) {
  const url = links.get(p.id);
  return h('button', {
    class: 'btn btn-small', type: 'button', 'data-link': p.id, 'data-url': url || '',
    title: url || t('console.pointlink.title'), 'aria-label': `${t('console.pointlink.title')}: ${p.name}`,
  }, t('console.pointlink'));
}

// Technician controls of a point (see "Technician controls" in
// docs/protocol.md). Every control button carries data-control (mute,
// keyframe, restart_camera, drop; mute turns into unmute for a muted point)
// and data-target (the participant id, which for a point is its id).
const CONTROLS = ['mute', 'keyframe', 'restart_camera', 'drop'];

// Returns the control buttons of participant id, with short labels (and
// the full text as their title) when short.
function controlButtons(id, short) {
  return CONTROLS.map((c) => h('button', {
    class: 'btn btn-small' + (c === 'drop' ? ' btn-bad' : ''), type: 'button', 'data-control': c, 'data-target': id, 'data-short': String(short),
  }));
}

// Sets the labels and states of the control buttons in box for point p.
function setControls(box, p) {
  const ready = call?.state === State.connected && p.state === 'connected';
  for (const b of box.querySelectorAll('button[data-control]')) {
    let c = b.dataset.control;
    if (c === 'mute' || c === 'unmute') {
      c = muted.has(p.id) ? 'unmute' : 'mute';
      b.dataset.control = c;
    }
    const full = t('control.' + c);
    b.textContent = b.dataset.short === 'true' ? t('control.short.' + c) : full;
    b.title = full;
    b.setAttribute('aria-label', `${full}: ${p.name}`);
    b.disabled = !ready;
  }
  return box;
}

// Sends the control of button b, after a confirmation for drop.
function control(b) {
  const action = b.dataset.control;
  const id = b.dataset.target;
  const name = book.points.get(id)?.name || id;
  if (action === 'drop' && !window.confirm(t('control.drop.confirm', { name }))) return;
  if (!call || !call.send({ type: 'control', action, participant_id: id })) {
    notify(ui.notices, t('floor.notconnected'));
    return;
  }
  switch (action) {
    case 'mute':
      muted.add(id);
      break;
    case 'unmute':
      muted.delete(id);
      break;
    default:
      break;
  }
  notify(ui.notices, t('control.done.' + action, { name }), 5);
  updateTiles();
  renderList();
}

// Conference start and end, and the roll call: the technician's attendance
// tools in the side column.
function setupAttendance() {
  ui.stage.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-control]');
    if (b && !b.disabled) control(b);
    const l = ev.target.closest('button[data-link]');
    if (l) copyLink(l.dataset.link);
  });
  ui.confStart.addEventListener('click', () => {
    if (window.confirm(t('conference.start.confirm'))) sendAttendance({ type: 'conference', action: 'start' });
  });
  ui.confEnd.addEventListener('click', () => {
    if (window.confirm(t('conference.end.confirm'))) sendAttendance({ type: 'conference', action: 'end' });
  });
  ui.confTesting.addEventListener('click', () => sendAttendance({ type: 'conference', action: 'testing' }));
  ui.confReopen.addEventListener('click', () => {
    if (window.confirm(t('conference.reopen.confirm'))) sendAttendance({ type: 'conference', action: 'reopen' });
  });
  ui.rollcallStart.addEventListener('click', () => {
    const seconds = Math.round(Number(ui.rollcallSeconds.value));
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) {
      notify(ui.notices, t('rollcall.window.invalid'));
      return;
    }
    sendAttendance({ type: 'roll_call', action: 'start', seconds });
  });
  ui.rollcallClose.addEventListener('click', () => sendAttendance({ type: 'roll_call', action: 'close' }));
  setInterval(tickRollCall, 500);
}

function sendAttendance(msg) {
  if (!call || !call.send(msg)) notify(ui.notices, t('floor.notconnected'));
}

// Takes the delegates each point declared from the attendance report.
function applyReport(report) {
  debug.report = report;
  delegates.clear();
  for (const pa of report.points || []) {
    if (pa.checked_in) delegates.set(pa.point.id, { delegates: pa.delegates, representative: pa.representative || '' });
    // A point gone before this console opened: since its last leave.
    const left = Date.parse(pa.last_leave || '');
    if (!gone.has(pa.point.id) && book.points.get(pa.point.id)?.state !== 'connected' && left > 0) gone.set(pa.point.id, left);
  }
  updateTiles();
  renderList();
}

function renderAttendance() {
  if (!session) return;
  const ready = call?.state === State.connected;
  const running = !!conferenceState?.running;
  const stage = conferenceStage(conferenceState) || 'scheduled';
  const before = stage === 'draft' || stage === 'scheduled' || stage === 'testing';
  ui.confControl.dataset.running = String(running);
  ui.confControl.dataset.stage = stage;
  ui.confState.textContent = conferenceStageText(conferenceState, clockTime) || t('conference.notstarted');
  if (conferenceState) showStage(ui.confStage, conferenceState, clockTime);
  // testing → start → end; an ended conference only by the explicit reopen.
  ui.confTesting.hidden = !(stage === 'draft' || stage === 'scheduled');
  ui.confStart.hidden = !before;
  ui.confEnd.hidden = !running;
  ui.confReopen.hidden = stage !== 'ended';
  for (const b of [ui.confTesting, ui.confStart, ui.confEnd, ui.confReopen]) b.disabled = !ready;

  const open = rollCall.open;
  ui.rollcallControl.dataset.open = String(open);
  ui.rollcallStart.hidden = open;
  ui.rollcallClose.hidden = !open;
  ui.rollcallStart.disabled = !ready;
  ui.rollcallClose.disabled = !ready;
  ui.rollcallSeconds.disabled = open;
  tickRollCall();
}

// Shows the roll call: how many points confirmed of how many invited, and
// the time left to confirm in.
function tickRollCall() {
  const rc = rollCall.state;
  if (!rc) {
    ui.rollcallStatus.textContent = '';
    return;
  }
  const total = invitedCount || book.points.size;
  const n = rollCall.confirmed.length;
  ui.rollcallStatus.dataset.confirmed = String(n);
  if (!rc.open) {
    ui.rollcallStatus.textContent = t('rollcall.closed', { n, total, time: clockTime(rc.started_at) });
    return;
  }
  const left = rollCall.remaining();
  const count = t('rollcall.count', { n, total });
  ui.rollcallStatus.textContent = left === null ? count
    : left > 0 ? `${count} · ${t('rollcall.left', { time: formatClock(left) })}` : `${count} · ${t('rollcall.over')}`;
}

function redraw() {
  if (!session) return;
  setMode(ui.body.dataset.mode);
  if (warningText) ui.warning.textContent = warningText();
  if (call) showStatus(ui.status, call.state);
  for (const tile of tiles.values()) tile.querySelector('.placeholder').textContent = t('tile.nopicture');
  fillLimits();
  render();
  renderFloor();
  renderAttendance();
  if (shownAlert) ui.floorAlertText.textContent = alertText(shownAlert);
  renderQualityAlerts();
  recordings?.render();
  livestream?.render();
}

// The technician's recording and livestream panels: shown once the
// server answers that it records (a server without recordings hides them).
function setupRecording() {
  const api = new RecordingsAPI(token, session.conference_id);
  recordings = new RecordingList({
    api,
    manage: true,
    notices: ui.notices,
    nodes: {
      panel: byId('recording-panel'),
      list: byId('rec-list'),
      empty: byId('rec-empty'),
      message: byId('rec-message'),
      start: byId('rec-start'),
      stop: byId('rec-stop'),
      elapsed: byId('rec-elapsed'),
    },
  });
  livestream = new LivePanel({
    api,
    notices: ui.notices,
    nodes: {
      panel: byId('live-panel'),
      rtmp: byId('live-rtmp'),
      hls: byId('live-hls'),
      rtmpFields: byId('live-rtmp-fields'),
      url: byId('live-url'),
      key: byId('live-key'),
      start: byId('live-start'),
      stop: byId('live-stop'),
      state: byId('live-state'),
      playlist: byId('live-playlist'),
      playlistLink: byId('live-playlist-link'),
      copy: byId('live-copy'),
      message: byId('live-message'),
    },
  });
  recordings.refresh();
  livestream.refresh();
}

// Floor control. Every button that acts on the floor carries data-action
// (give, extend, take_back, withdraw) and data-target (the point; none for
// "the next in the queue" or "every holder"), and data-seconds for extend.
function setupFloor() {
  fillLimits();
  ui.stage.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (!b || b.disabled) return;
    const target = b.dataset.target || '';
    switch (b.dataset.action) {
      case 'give':
        act('give', { point_id: target, seconds: Number(ui.floorLimit.value) || 0 });
        break;
      case 'extend':
        act('extend', { point_id: target, seconds: Number(b.dataset.seconds) });
        break;
      case 'take_back':
      case 'withdraw':
        act(b.dataset.action, { point_id: target });
        break;
      default:
        console.warn('hoinghi: unknown floor button', b.dataset.action);
    }
  });
  ui.floorDiscussion.addEventListener('click', () => act(floor.discussion ? 'close_discussion' : 'open_discussion'));
  ui.floorAlertClose.addEventListener('click', hideAlert);
  setInterval(tickFloor, 500);
}

function act(action, fields) {
  if (!call || !call.floor(action, fields)) notify(ui.notices, t('floor.notconnected'));
}

// Fills the time limit select in the page's language, keeping the choice.
function fillLimits() {
  const chosen = ui.floorLimit.value || '0';
  ui.floorLimit.replaceChildren(...LIMITS.map((s) => new Option(
    s === 0 && floor.defaultSeconds > 0 ? t('floor.limit.defaultof', { n: Math.round(floor.defaultSeconds / 60) })
      : s === 0 ? t('floor.limit.default') : s < 0 ? t('floor.limit.none') : t('floor.limit.minutes', { n: s / 60 }),
    String(s), false, String(s) === chosen)));
}

// Returns where point id stands on the floor: holding, queued or none.
function floorOf(id) {
  return floor.holder(id) ? 'holding' : floor.request(id) ? 'queued' : 'none';
}

// Sets a tile's or list row's floor button: take back from the holder, give
// to any other point that is connected.
function floorButton(p, button) {
  const holding = !!floor.holder(p.id);
  button.dataset.action = holding ? 'take_back' : 'give';
  button.textContent = t(holding ? 'floor.takeback' : 'floor.give');
  button.classList.toggle('btn-bad', holding);
  button.disabled = !holding && p.state !== 'connected';
  return button;
}

function renderFloor() {
  if (!session) return;
  const ready = call?.state === State.connected && floor.known;
  ui.chair.dataset.discussion = String(floor.discussion);

  if (floor.holders.length === 0) {
    ui.floorHolders.replaceChildren(h('p', { class: 'hint' }, t('point.speaker.none')));
  } else {
    ui.floorHolders.replaceChildren(...floor.holders.map((turn) => h('div', {
      class: 'holder', 'data-target': turn.point_id, 'data-online': String(turn.online),
    },
    h('div', { class: 'holder-head' },
      h('strong', { class: 'holder-name' }, turn.name || turn.point_id),
      h('span', { class: 'clock', 'data-target': turn.point_id })),
    turn.subject ? h('div', { class: 'holder-subject' }, turn.subject) : null,
    turn.online ? null : h('div', { class: 'offline' }, t('floor.offline')),
    h('div', { class: 'holder-actions' },
      ...(turn.deadline ? EXTENSIONS.map((sec) => h('button', {
        class: 'btn btn-small', type: 'button', 'data-action': 'extend', 'data-target': turn.point_id, 'data-seconds': sec, disabled: !ready,
      }, t('floor.extend', { n: sec / 60 }))) : []),
      h('button', {
        class: 'btn btn-small btn-bad', type: 'button', 'data-action': 'take_back', 'data-target': turn.point_id, disabled: !ready,
      }, t('floor.takeback')),
      h('span', { class: 'holder-meta' }, t('floor.since', { time: clockTime(turn.since) }))))));
  }

  ui.queueCount.textContent = String(floor.queue.length);
  if (floor.queue.length === 0) {
    ui.floorQueue.replaceChildren(h('li', { class: 'hint' }, t('console.chair.noqueue')));
  } else {
    ui.floorQueue.replaceChildren(...floor.queue.map((r) => h('li', {
      class: 'request', 'data-target': r.point_id, 'data-online': String(r.online),
    },
    h('div', { class: 'request-head' },
      h('span', { class: 'request-name' }, r.name || r.point_id),
      h('span', { class: 'request-time' }, clockTime(r.asked_at))),
    r.subject ? h('div', { class: 'request-subject' }, r.subject) : null,
    r.online ? null : h('div', { class: 'offline' }, t('floor.offline')),
    h('div', { class: 'request-actions' },
      h('button', { class: 'btn btn-small btn-go', type: 'button', 'data-action': 'give', 'data-target': r.point_id, disabled: !ready || !r.online }, t('floor.give')),
      h('button', {
        class: 'btn btn-small', type: 'button', 'data-action': 'withdraw', 'data-target': r.point_id, disabled: !ready, title: t('floor.remove.title'),
      }, t('floor.remove'))))));
  }

  ui.floorNext.disabled = !ready || !floor.queue.some((r) => r.online);
  ui.floorDiscussion.disabled = !ready;
  ui.floorDiscussion.textContent = t(floor.discussion ? 'floor.discussion.close' : 'floor.discussion.open');
  ui.floorDiscussionOn.hidden = !floor.discussion;
  if (shownAlert && !shownAlert.takenBack && !floor.holders.some((turn) => turn.turn_id === shownAlert.turnId)) hideAlert();
  markTiles();
  renderList();
  renderProgram();
  tickFloor();
}

// Marks the holders' tiles (highlighted, with their countdown) and the
// queued ones (with their position), and sets each tile's floor button.
function markTiles() {
  for (const [id, tile] of tiles) {
    const p = book.points.get(id);
    if (!p) continue;
    const where = floorOf(id);
    tile.dataset.floor = where;
    const badge = tile.querySelector('.tile-badge');
    const clock = tile.querySelector('.tile-floor .clock');
    badge.textContent = where === 'holding'
      ? t('floor.tile.holding')
      : where === 'queued' ? t('floor.tile.queued', { n: floor.request(id).position }) : '';
    clock.dataset.target = where === 'holding' ? id : '';
    if (where !== 'holding') {
      clock.textContent = '';
      clock.removeAttribute('data-over');
    }
    floorButton(p, tile.querySelector('.tile-action'));
  }
}

// Updates every countdown: in the holders' list and on their tiles.
function tickFloor() {
  for (const node of ui.stage.querySelectorAll('.clock[data-target]')) {
    const turn = node.dataset.target && floor.holder(node.dataset.target);
    if (!turn) continue;
    showClock(node, floor, turn);
    node.closest('.holder, .tile')?.toggleAttribute('data-over', node.hasAttribute('data-over'));
  }
}

// The program screen shows large, first found: in the chair's view the
// (first) speaker, from the speaker-video slot, while someone holds the
// floor; the point chosen on its tile ("Xem lớn"), from its wall slot;
// otherwise the hall's own camera.
function renderProgram() {
  const turn = ui.body.dataset.mode === 'chair' ? floor.holders[0] : null;
  let shown = null; // {id, label, track}
  if (turn && speakerVideo) {
    shown = { id: turn.point_id, label: t('console.program.speaker', { name: turn.name || turn.point_id }), track: speakerVideo };
  } else if (focus && streamOf(focus)) {
    const name = book.points.get(focus)?.name || focus;
    shown = { id: focus, label: t('console.program.focus', { name }), track: streamOf(focus).getVideoTracks()[0] };
  }
  if (shown) {
    if (ui.programSpeaker.srcObject?.getVideoTracks()[0] !== shown.track) showVideo(ui.programSpeaker, new MediaStream([shown.track]));
  } else if (ui.programSpeaker.srcObject) {
    ui.programSpeaker.srcObject = null;
  }
  ui.program.dataset.show = shown ? (turn && shown.id === turn.point_id ? 'speaker' : 'focus') : 'hall';
  ui.program.dataset.participant = shown ? shown.id : '';
  ui.programSpeaker.hidden = !shown;
  ui.programVideo.hidden = !!shown;
  ui.programPlaceholder.hidden = !!shown || !stream || stream.getVideoTracks().length > 0;
  ui.programLabel.textContent = shown ? shown.label : t('console.program');
}

function alertText(a) {
  return t(a.takenBack ? 'floor.alert.takenback' : 'floor.alert', { name: a.name });
}

// Shows a floor_alert: a turn's time ran out. It stays until dismissed or
// until the turn ends (a turn the server took back itself: for a while).
function showAlert(msg) {
  hideAlert();
  shownAlert = { turnId: msg.turn_id, name: msg.name || msg.point_id, takenBack: !!msg.taken_back, timer: 0 };
  if (shownAlert.takenBack) shownAlert.timer = setTimeout(hideAlert, 30000);
  ui.floorAlert.dataset.target = msg.point_id || '';
  ui.floorAlertText.textContent = alertText(shownAlert);
  ui.floorAlert.hidden = false;
  notify(ui.notices, alertText(shownAlert), 15);
}

function hideAlert() {
  if (shownAlert) clearTimeout(shownAlert.timer);
  shownAlert = null;
  ui.floorAlert.hidden = true;
}

main().catch((err) => {
  console.error('hoinghi: console page', err);
  notify(ui.notices, t('page.error', { error: err.message || err }), 60);
});
