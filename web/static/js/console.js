// The hall console (/console/?t=TOKEN): publishes the hall's program and shows
// every connected point on a video wall.

import { readToken, fetchSession } from './session.js';
import { Call, State, closingText } from './call.js';
import { AudioSinks, DevicePicker, LevelMeter, mediaAllowed, mediaErrorText, showVideo } from './media.js';
import {
  byId, h, notify, showRefusal, showSessionRefusal, showStatus, showUnreachable,
} from './ui.js';

const ROLE_NAMES = { technician: 'Kỹ thuật viên hội trường', chair: 'Chủ tọa', secretariat: 'Thư ký hội nghị' };

const ui = {
  body: document.body,
  title: byId('conf-title'),
  roleName: byId('role-name'),
  pointCount: byId('point-count'),
  videoCount: byId('video-count'),
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
  wall: byId('wall'),
  wallEmpty: byId('wall-empty'),
  notices: byId('notices'),
  sinks: byId('audio-sinks'),
  unmute: byId('unmute'),
};

const token = readToken();
let session = null;
let call = null;
let stream = null; // the hall program we publish
let viewer = false; // the secretariat: roster only, no media
const streams = new Map(); // participant id -> MediaStream received from the server
const tiles = new Map(); // participant id -> tile element
const sinks = new AudioSinks(ui.sinks, ui.unmute);

function warn(text) {
  ui.warning.textContent = text;
  ui.warning.hidden = false;
}

async function main() {
  const res = await fetchSession(token);
  if (!res.ok) {
    if (res.refusal) {
      showSessionRefusal(ui.refusal, res.refusal);
      showStatus(ui.status, State.refused);
    } else {
      showUnreachable(ui.refusal);
      ui.status.textContent = 'Không kết nối được';
    }
    return;
  }
  session = res.session;
  ui.title.textContent = session.conference_title || 'Hội nghị trực tuyến';
  document.title = `Bàn điều khiển – ${session.conference_title || 'Hội nghị trực tuyến'}`;
  ui.roleName.textContent = ROLE_NAMES[session.role] || 'Bàn điều khiển hội trường';
  showStatus(ui.status, State.idle);

  if (session.role === 'point') {
    showRefusal(ui.refusal, {
      title: 'Đường dẫn này không dành cho bàn điều khiển',
      message: 'Đây là đường dẫn của một điểm cầu.',
      link: { href: '/point/' + window.location.search, text: 'Mở trang điểm cầu' },
      phone: session.technician_phone,
      reason: 'wrong_page',
    });
    return;
  }

  ui.body.dataset.step = 'live';
  ui.stage.hidden = false;
  // The secretariat neither sends nor receives media: it sees who is connected.
  viewer = session.role === 'secretariat';
  ui.body.classList.toggle('viewer', viewer);
  if (viewer) {
    stream = new MediaStream();
  } else {
    stream = await openProgram();
    ui.programPlaceholder.hidden = stream.getVideoTracks().length > 0;
    ui.devices.hidden = stream.getTracks().length === 0;
  }

  call = new Call({
    token,
    stream,
    iceServers: session.ice_servers,
    on: {
      state: (state) => showStatus(ui.status, state),
      roster: renderRoster,
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
        for (const tile of tiles.values()) attachTile(tile, null);
      },
      notice: (text) => notify(ui.notices, text),
      closed: (reason, message) => {
        showRefusal(ui.refusal, {
          title: 'Bàn điều khiển đã ngắt kết nối',
          message: closingText(reason, message),
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
}

// Opens the hall camera and microphone. Without them the console still shows the
// points, so failures become a warning and an empty stream.
async function openProgram() {
  if (!mediaAllowed()) {
    warn('Trình duyệt từ chối mở camera và micro vì trang không được mở qua HTTPS: các điểm cầu sẽ không thấy hội trường. ' +
      'Hãy mở bàn điều khiển bằng đường dẫn https://.');
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
    warn(`Không mở được camera và micro của hội trường: ${mediaErrorText(err)} Bàn điều khiển vẫn nhận hình các điểm cầu.`);
    return new MediaStream();
  }
}

function release() {
  sinks.clear();
  for (const track of stream?.getTracks() || []) track.stop();
}

// Keeps one tile per point in the roster, in name order so that the wall does
// not move when points come and go.
function renderRoster(participants) {
  const points = participants
    .filter((p) => p.role === 'point')
    .sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id, 'vi') || a.id.localeCompare(b.id));
  const present = new Set(points.map((p) => p.id));
  for (const [id, tile] of tiles) {
    if (!present.has(id)) {
      tile.querySelector('video').srcObject = null;
      tile.remove();
      tiles.delete(id);
    }
  }
  points.forEach((p, i) => {
    let tile = tiles.get(p.id);
    if (!tile) {
      tile = newTile(p);
      tiles.set(p.id, tile);
      attachTile(tile, streams.get(p.id) || null);
    }
    tile.querySelector('.tile-name').textContent = p.name || p.id;
    if (ui.wall.children[i] !== tile) ui.wall.insertBefore(tile, ui.wall.children[i] || null);
  });
  const n = points.length;
  ui.pointCount.textContent = String(n);
  ui.wall.dataset.count = String(n);
  ui.wallEmpty.hidden = n > 0;
  layoutWall();
  updateTiles();
}

// Chooses the number of columns that makes the 16:9 tiles largest while the
// whole wall fits its area; below MIN_TILE_WIDTH the wall scrolls instead.
const MIN_TILE_WIDTH = 200;
const TILE_GAP = 8;
const VIEWER_TILE_WIDTH = 280;

function layoutWall() {
  const n = Math.max(1, tiles.size);
  const area = ui.wall.parentElement;
  const width = area.clientWidth;
  const height = area.clientHeight;
  let bestCols = 1;
  let bestWidth = 0;
  if (viewer) {
    // Name cards only: as many columns of MIN_TILE_WIDTH as fit.
    bestCols = Math.max(1, Math.floor((width + TILE_GAP) / (VIEWER_TILE_WIDTH + TILE_GAP)));
    ui.wall.style.setProperty('--cols', String(bestCols));
    ui.wall.style.setProperty('--tile-width', '1fr');
    return;
  }
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

new ResizeObserver(layoutWall).observe(ui.wall.parentElement);

function newTile(p) {
  const video = h('video', { muted: true, autoplay: true, playsinline: true });
  video.addEventListener('loadeddata', updateTiles);
  video.addEventListener('resize', updateTiles);
  return h('div', { class: 'tile', 'data-participant': p.id, 'data-state': 'waiting' },
    video,
    h('div', { class: 'placeholder' }, 'chưa có hình'),
    h('div', { class: 'tile-caption' },
      h('span', { class: 'tile-name' }, p.name || p.id),
      h('span', { class: 'tile-state' }, 'Đang kết nối')));
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

// Sets each tile's state: "live" once its video shows frames, else "waiting"
// (with "chưa có hình"); the caption says whether its media arrived.
function updateTiles() {
  let live = 0;
  for (const [id, tile] of tiles) {
    const video = tile.querySelector('video');
    const remote = streams.get(id);
    const track = remote?.getVideoTracks()[0];
    const showing = !!track && !track.muted && video.srcObject === remote &&
      video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0;
    tile.dataset.state = showing ? 'live' : 'waiting';
    tile.querySelector('.placeholder').hidden = showing;
    tile.querySelector('.tile-state').textContent = viewer || remote ? 'Đã kết nối' : 'Đang kết nối';
    if (showing) live++;
  }
  ui.videoCount.textContent = String(live);
}

main().catch((err) => {
  console.error('hoinghi: console page', err);
  notify(ui.notices, `Trang gặp lỗi: ${err.message || err}. Hãy tải lại trang.`, 60);
});
