// The hall console (/console/?t=TOKEN), for the technician and the chair:
// publishes the hall's program and shows every connection point, as a video
// wall or as a sortable, searchable list, each with a link-quality dot
// measured from this page's own getStats. The chair's tab ("Chủ tọa") shows
// the floor; its controls come with floor control.

import { readToken, fetchSession } from './session.js';
import { Call, State, closingText } from './call.js';
import { AudioSinks, DevicePicker, LevelMeter, mediaAllowed, mediaErrorText, showVideo } from './media.js';
import { initLang, t } from './i18n.js';
import { PointBook, matches } from './points.js';
import { InboundQuality, selectedPair } from './stats.js';
import {
  byId, debugInfo, h, notify, showRefusal, showSessionRefusal, showStatus, showUnreachable,
} from './ui.js';

// How often the link quality of every point is measured, in milliseconds.
const QUALITY_INTERVAL = 2000;

const ui = {
  body: document.body,
  title: byId('conf-title'),
  roleName: byId('role-name'),
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
  meter: byId('mic-meter'),
  hallLink: byId('hall-link'),
  views: byId('views'),
  search: byId('search'),
  wallBox: byId('wall-box'),
  wall: byId('wall'),
  list: byId('list'),
  listBody: byId('list-body'),
  wallEmpty: byId('wall-empty'),
  notices: byId('notices'),
  sinks: byId('audio-sinks'),
  unmute: byId('unmute'),
};

const token = readToken();
const debug = debugInfo();
let session = null;
let call = null;
let stream = null; // the hall program we publish
let warningText = null; // () => text of the warning shown, for a language switch
const book = new PointBook();
const streams = new Map(); // participant id -> MediaStream received from the server
const tiles = new Map(); // point id -> tile element
const quality = new Map(); // point id -> {loss, jitter, rtt, fps, quality}
const meter = new InboundQuality();
const sinks = new AudioSinks(ui.sinks, ui.unmute);
let sort = { key: 'name', dir: 1 };

function warn(text) {
  warningText = text;
  ui.warning.textContent = text();
  ui.warning.hidden = false;
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
  if (session.role === 'secretariat') {
    // The secretariat has its own page.
    window.location.replace('/secretariat/' + window.location.search);
    return;
  }
  ui.title.textContent = session.conference_title || t('app.title');
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
  redraw();
  if (session.role === 'technician') loadInvited();

  stream = await openProgram();
  ui.programPlaceholder.hidden = stream.getVideoTracks().length > 0;
  call = new Call({
    token,
    stream,
    iceServers: session.ice_servers,
    on: {
      state: (state) => showStatus(ui.status, state),
      roster: (participants) => {
        book.roster(participants);
        render();
      },
      track: (id, remote, track) => {
        streams.set(id, remote);
        if (remote.getAudioTracks().length > 0) sinks.set(id, remote);
        const tile = tiles.get(id);
        if (tile) attachTile(tile, remote);
        track.addEventListener('mute', updateTiles);
        track.addEventListener('unmute', updateTiles);
      },
      streamEnded: (id) => {
        streams.delete(id);
        sinks.remove(id);
        const tile = tiles.get(id);
        if (tile) attachTile(tile, null);
      },
      remoteReset: () => {
        streams.clear();
        sinks.clear();
        meter.reset();
        quality.clear();
        for (const tile of tiles.values()) attachTile(tile, null);
      },
      notice: (text) => notify(ui.notices, text),
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
}

// Lists every invited point (technician links only), so that the list view
// also shows who has not connected yet.
async function loadInvited() {
  try {
    const res = await fetch(`/api/conferences/${encodeURIComponent(session.conference_id)}/links`, {
      headers: { Accept: 'application/json', Authorization: 'Bearer ' + token },
      cache: 'no-store',
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const links = await res.json();
    book.invite(links.filter((l) => l.role === 'point'));
    render();
  } catch (err) {
    console.warn('hoinghi: invited points', err);
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
  ui.search.addEventListener('input', render);
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
      ui.programPlaceholder.hidden = stream.getVideoTracks().length > 0;
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

function render() {
  const query = ui.search.value;
  const onWall = wallPoints();
  const present = new Set(onWall.map((p) => p.id));
  for (const [id, tile] of tiles) {
    if (!present.has(id)) {
      tile.querySelector('video').srcObject = null;
      tile.remove();
      tiles.delete(id);
    }
  }
  let shown = 0;
  onWall.forEach((p, i) => {
    let tile = tiles.get(p.id);
    if (!tile) {
      tile = newTile(p);
      tiles.set(p.id, tile);
      attachTile(tile, streams.get(p.id) || null);
    }
    tile.querySelector('.tile-name').textContent = p.name;
    tile.dataset.point = p.state;
    tile.hidden = !matches(p.name, query);
    if (!tile.hidden) shown++;
    if (ui.wall.children[i] !== tile) ui.wall.insertBefore(tile, ui.wall.children[i] || null);
  });
  const n = book.connectedCount();
  ui.pointCount.textContent = String(n);
  ui.wall.dataset.count = String(shown);
  const listView = ui.body.dataset.view === 'list';
  ui.wallBox.hidden = listView;
  ui.list.hidden = !listView;
  const empty = listView ? book.points.size === 0 : onWall.length === 0;
  const noMatch = !empty && (listView ? !book.list().some((p) => matches(p.name, query)) : shown === 0);
  ui.wallEmpty.hidden = !empty && !noMatch;
  ui.wallEmpty.textContent = t(noMatch ? 'console.nomatch' : 'console.empty');
  layoutWall();
  updateTiles();
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
  return h('div', { class: 'tile', 'data-participant': p.id, 'data-state': 'waiting' },
    video,
    h('div', { class: 'placeholder' }, t('tile.nopicture')),
    h('div', { class: 'tile-caption' },
      h('span', { class: 'dot', 'data-quality': 'none' }),
      h('span', { class: 'tile-name' }, p.name),
      h('span', { class: 'tile-state' }, '')));
}

function attachTile(tile, remote) {
  const video = tile.querySelector('video');
  if (remote) {
    showVideo(video, remote);
  } else {
    video.srcObject = null;
  }
  updateTiles();
}

// Returns the tile state of point p: "live" once its video shows frames,
// "offline" while it is not connected, else "waiting".
function tileState(p, tile) {
  if (p.state !== 'connected') return 'offline';
  const video = tile.querySelector('video');
  const remote = streams.get(p.id);
  const track = remote?.getVideoTracks()[0];
  const showing = !!track && !track.muted && video.srcObject === remote &&
    video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0;
  return showing ? 'live' : 'waiting';
}

function stateText(p, state) {
  if (p.state === 'invited') return t('tile.invited');
  return t('tile.' + state);
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
    showQuality(tile.querySelector('.dot'), state === 'offline' ? null : quality.get(id));
    if (state === 'live') live++;
  }
  ui.videoCount.textContent = String(live);
}

function qualityTitle(q) {
  if (!q) return t('quality.none');
  const detail = t('quality.detail', {
    loss: q.loss === undefined ? '–' : (q.loss * 100).toFixed(1),
    jitter: Math.round(q.jitter),
    fps: Math.round(q.fps),
  });
  return `${t('quality.' + q.quality)}: ${detail}`;
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
    for (const [id, s] of streams) if (s.getTracks().some((tr) => tr.id === trackId)) return id;
    return '';
  };
  const measured = await meter.sample(pc, owner);
  for (const [id, q] of measured) quality.set(id, q);
  for (const id of quality.keys()) if (!streams.has(id)) quality.delete(id);
  const pair = selectedPair(await pc.getStats());
  ui.hallLink.textContent = pair?.rtt !== undefined ? t('console.link', { rtt: Math.round(pair.rtt) }) : '';
  updateTiles();
  renderList();
}

const STATE_ORDER = { live: 0, waiting: 1, offline: 2, invited: 3 };
const QUALITY_ORDER = { good: 0, fair: 1, poor: 2, none: 3 };

function listState(p) {
  if (p.state === 'invited') return 'invited';
  const tile = tiles.get(p.id);
  return tile ? tileState(p, tile) : 'offline';
}

function renderList() {
  if (ui.list.hidden) return;
  const query = ui.search.value;
  const rows = book.list().filter((p) => matches(p.name, query)).map((p) => {
    const state = listState(p);
    const q = state === 'offline' || state === 'invited' ? null : quality.get(p.id) || null;
    return { p, state, q };
  });
  const cmp = {
    name: () => 0,
    state: (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state],
    quality: (a, b) => QUALITY_ORDER[a.q?.quality || 'none'] - QUALITY_ORDER[b.q?.quality || 'none'],
  }[sort.key];
  // book.list() is in name order already: a stable sort keeps it within ties.
  rows.sort((a, b) => sort.dir * (cmp(a, b) || (sort.key === 'name' ? a.p.name.localeCompare(b.p.name, 'vi') : 0)));
  for (const th of ui.list.querySelectorAll('[data-sort]')) {
    th.closest('th').setAttribute('aria-sort', th.dataset.sort === sort.key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
  ui.listBody.replaceChildren(...rows.map(({ p, state, q }) => {
    const dot = h('span', { class: 'dot' });
    showQuality(dot, q);
    return h('tr', { 'data-participant': p.id, 'data-state': state },
      h('td', { class: 'list-name' }, p.name),
      h('td', {}, stateText(p, state)),
      h('td', {}, dot, ' ', q ? t('quality.' + q.quality) : '–'),
      h('td', { class: 'list-detail' }, q ? qualityTitle(q).split(': ')[1] : ''),
      h('td', {}, p.state === 'connected' && p.since ? p.since.toLocaleTimeString('vi-VN') : ''));
  }));
}

function redraw() {
  if (!session) return;
  setMode(ui.body.dataset.mode);
  if (warningText) ui.warning.textContent = warningText();
  if (call) showStatus(ui.status, call.state);
  for (const tile of tiles.values()) tile.querySelector('.placeholder').textContent = t('tile.nopicture');
  render();
}

main().catch((err) => {
  console.error('hoinghi: console page', err);
  notify(ui.notices, t('page.error', { error: err.message || err }), 60);
});
