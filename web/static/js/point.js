// The connection point page (/point/?t=TOKEN): check camera and microphone,
// then join and watch the hall's program.

import { readToken, fetchSession } from './session.js';
import { Call, State, closingText } from './call.js';
import { AudioSinks, DevicePicker, LevelMeter, mediaAllowed, mediaErrorText, showVideo } from './media.js';
import {
  byId, notify, showInsecure, showRefusal, showSessionRefusal, showStatus, showUnreachable,
} from './ui.js';

// Hall roles whose video is the program, in order of preference.
const PROGRAM_ROLES = ['technician', 'chair'];

const ui = {
  body: document.body,
  title: byId('conf-title'),
  pointName: byId('point-name'),
  status: byId('status'),
  refusal: byId('refusal'),
  stage: byId('stage'),
  hallVideo: byId('hall-video'),
  hallPlaceholder: byId('hall-placeholder'),
  hallLabel: byId('hall-label'),
  selfVideo: byId('self-video'),
  cameraSelect: byId('camera-select'),
  micSelect: byId('mic-select'),
  meter: byId('mic-meter'),
  join: byId('join'),
  notices: byId('notices'),
  sinks: byId('audio-sinks'),
  unmute: byId('unmute'),
};

const token = readToken();
let session = null;
let picker = null;
let call = null;
let roster = [];
const streams = new Map(); // participant id -> MediaStream received from the server
const sinks = new AudioSinks(ui.sinks, ui.unmute);

function setStep(step) {
  ui.body.dataset.step = step;
  ui.stage.hidden = step === 'loading';
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
  ui.pointName.textContent = session.name || '';
  document.title = `${session.name || 'Điểm cầu'} – ${session.conference_title || 'Hội nghị trực tuyến'}`;
  showStatus(ui.status, State.idle);

  if (session.role !== 'point') {
    showRefusal(ui.refusal, {
      title: 'Đường dẫn này không dành cho điểm cầu',
      message: 'Đây là đường dẫn của hội trường, dùng cho trang bàn điều khiển.',
      link: { href: '/console/' + window.location.search, text: 'Mở bàn điều khiển hội trường' },
      phone: session.technician_phone,
      reason: 'wrong_page',
    });
    return;
  }
  if (!mediaAllowed()) {
    showInsecure(ui.refusal, session.technician_phone);
    return;
  }

  setStep('setup');
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
      title: 'Không mở được camera và micro',
      message: mediaErrorText(err),
      phone: session.technician_phone,
      reason: 'media',
    });
    return;
  }
  if (picker.stream.getVideoTracks().length === 0) {
    notify(ui.notices, 'Không mở được camera: hội trường sẽ chỉ nghe tiếng của điểm cầu.', 20);
  }
  if (picker.stream.getAudioTracks().length === 0) {
    notify(ui.notices, 'Không mở được micro: hội trường sẽ chỉ thấy hình của điểm cầu.', 20);
  }
  ui.join.disabled = false;
  ui.join.addEventListener('click', join, { once: true });
}

function join() {
  ui.join.disabled = true;
  setStep('live');
  sinks.unlock(); // this click lets the hall's sound play
  call = new Call({
    token,
    stream: picker.stream,
    iceServers: session.ice_servers,
    on: {
      state: (state) => showStatus(ui.status, state),
      roster: (participants) => {
        roster = participants;
        render();
      },
      track: (id, stream, track) => {
        streams.set(id, stream);
        if (stream.getAudioTracks().length > 0) sinks.set(id, stream);
        track.addEventListener('unmute', render);
        track.addEventListener('mute', render);
        render();
      },
      streamEnded: (id) => {
        streams.delete(id);
        sinks.remove(id);
        render();
      },
      remoteReset: () => {
        streams.clear();
        sinks.clear();
        render();
      },
      notice: (text) => notify(ui.notices, text),
      closed: (reason, message) => {
        showRefusal(ui.refusal, {
          title: 'Trang đã ngắt kết nối',
          message: closingText(reason, message),
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

function render() {
  const shown = program();
  if (!shown) {
    ui.hallVideo.srcObject = null;
    delete ui.hallVideo.dataset.participant;
    ui.hallPlaceholder.hidden = false;
    ui.hallLabel.textContent = 'Hội trường';
    return;
  }
  showVideo(ui.hallVideo, shown.stream);
  ui.hallVideo.dataset.participant = shown.stream.id;
  const live = shown.stream.getVideoTracks().some((t) => !t.muted);
  ui.hallPlaceholder.hidden = live;
  ui.hallLabel.textContent = shown.p?.name || 'Hội trường';
}

main().catch((err) => {
  console.error('hoinghi: point page', err);
  notify(ui.notices, `Trang gặp lỗi: ${err.message || err}. Hãy tải lại trang.`, 60);
});
