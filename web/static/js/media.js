// Media: opening camera and microphone, choosing devices, the microphone level
// meter, and playing remote audio despite autoplay rules.

import { t } from './i18n.js';

/** Video constraints: one plain encoding of about 640x360 at 25 frames a second. */
export const VIDEO = Object.freeze({
  width: { ideal: 640 },
  height: { ideal: 360 },
  frameRate: { ideal: 25, max: 30 },
});

/**
 * Video constraints for a camera sent in three simulcast encodings: 1280x720,
 * so that the browser sends all three (Chromium sends fewer layers from a
 * smaller picture) and the top one is the whole picture.
 */
export const VIDEO_SIMULCAST = Object.freeze({
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 25, max: 30 },
});

let video = VIDEO;

/**
 * Chooses the camera's size for the simulcast encodings the server asks
 * for (video_layers of the session): VIDEO_SIMULCAST for three, VIDEO
 * otherwise. Call it before the camera opens.
 */
export function useVideoLayers(layers) {
  video = Array.isArray(layers) && layers.length >= 3 ? VIDEO_SIMULCAST : VIDEO;
}

/** Audio constraints: the browser's speech processing on. */
export const AUDIO = Object.freeze({
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
});

/** Reports whether this page may ask for camera and microphone at all. */
export function mediaAllowed() {
  return window.isSecureContext && !!navigator.mediaDevices?.getUserMedia;
}

// Remembers the chosen camera and microphone of this browser.
const DEVICES_KEY = 'hoinghi.devices';

function rememberedDevice(kind) {
  try {
    return JSON.parse(localStorage.getItem(DEVICES_KEY) || '{}')[kind] || '';
  } catch {
    return '';
  }
}

function rememberDevice(kind, deviceId) {
  try {
    const all = JSON.parse(localStorage.getItem(DEVICES_KEY) || '{}');
    all[kind] = deviceId;
    localStorage.setItem(DEVICES_KEY, JSON.stringify(all));
  } catch {
    // Not remembered: the next visit opens the default device.
  }
}

// Returns the constraints of kind: deviceId exactly when given, else,
// with remembered, exactly the device chosen last time (Chromium ignores
// an ideal deviceId for audio: the room's microphone must be asked for
// exactly), else any device.
function constraints(kind, deviceId, remembered = true) {
  const base = kind === 'video' ? video : AUDIO;
  const id = deviceId || (remembered ? rememberedDevice(kind) : '');
  return id ? { ...base, deviceId: { exact: id } } : { ...base };
}

// Reports whether getUserMedia failed because the device asked for is gone.
function deviceGone(err) {
  return err?.name === 'OverconstrainedError' || err?.name === 'NotFoundError';
}

/**
 * Opens one track of kind ("audio" or "video"): from deviceId when given,
 * else from the device chosen last time, or, when that one is gone, from
 * any device of the kind.
 */
export async function openTrack(kind, deviceId) {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraints(kind, deviceId) });
    return stream.getTracks()[0];
  } catch (err) {
    if (deviceId || !rememberedDevice(kind) || !deviceGone(err)) throw err;
    console.warn(`hoinghi: the ${kind} device chosen last time is gone; opening another`);
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraints(kind, '', false) });
    return stream.getTracks()[0];
  }
}

/**
 * Opens camera and microphone together. When one of them is missing or busy,
 * returns a stream with the other only; throws when neither opens or when the
 * user or the browser denied permission.
 */
export async function openMedia() {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: constraints('audio'), video: constraints('video') });
  } catch (err) {
    if (err.name === 'NotAllowedError' || err.name === 'SecurityError') throw err;
    const stream = new MediaStream();
    for (const kind of ['audio', 'video']) {
      try {
        stream.addTrack(await openTrack(kind));
      } catch (one) {
        console.warn(`hoinghi: cannot open ${kind}`, one);
      }
    }
    if (stream.getTracks().length === 0) throw err;
    return stream;
  }
}

/** Returns a plain sentence (in the page's language) for a getUserMedia failure. */
export function mediaErrorText(err) {
  switch (err?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return t('media.blocked');
    case 'NotFoundError':
    case 'OverconstrainedError':
      return t('media.notfound');
    case 'NotReadableError':
    case 'AbortError':
      return t('media.busy');
    default:
      return t('media.other', { error: err?.name || err });
  }
}

/** Makes video show stream, muted (its sound is played by AudioSinks or not at all). */
export function showVideo(video, stream) {
  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;
  if (video.srcObject !== stream) video.srcObject = stream;
  video.play().catch((err) => {
    if (err.name !== 'AbortError') console.warn('hoinghi: video does not play', err);
  });
}

/**
 * DevicePicker keeps the local stream and the camera and microphone selects in
 * step. The stream object stays the same; choosing a device swaps its track and
 * calls onTrack(newTrack) so that the caller can publish the new one.
 */
export class DevicePicker {
  constructor({ video, cameraSelect, micSelect, meter, onTrack, onError }) {
    this.video = video;
    this.selects = { video: cameraSelect, audio: micSelect };
    this.meter = meter;
    this.onTrack = onTrack || (() => {});
    this.onError = onError || (() => {});
    this.stream = null;
  }

  /** Opens camera and microphone and fills the selects; rejects like openMedia. */
  async start() {
    this.stream = await openMedia();
    this.#show();
    for (const kind of ['audio', 'video']) {
      this.selects[kind].addEventListener('change', () => this.#choose(kind, this.selects[kind].value));
    }
    navigator.mediaDevices.addEventListener('devicechange', () => this.refresh());
    await this.refresh();
    return this.stream;
  }

  #show() {
    showVideo(this.video, this.stream);
    this.meter?.attach(this.stream);
  }

  /** Refills the selects from the devices present now. */
  async refresh() {
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch (err) {
      console.warn('hoinghi: enumerateDevices', err);
    }
    for (const kind of ['audio', 'video']) {
      const select = this.selects[kind];
      const current = this.stream?.getTracks().find((t) => t.kind === kind);
      const currentId = current?.getSettings().deviceId || '';
      const found = devices.filter((d) => d.kind === kind + 'input' && d.deviceId);
      select.replaceChildren();
      found.forEach((d, i) => {
        const label = d.label || t(kind === 'video' ? 'media.camera.n' : 'media.mic.n', { n: i + 1 });
        select.append(new Option(label, d.deviceId, false, d.deviceId === currentId));
      });
      if (found.length === 0) {
        select.append(new Option(t(kind === 'video' ? 'media.camera.none' : 'media.mic.none'), ''));
      }
      select.disabled = found.length === 0;
    }
  }

  /**
   * Closes the track of kind and opens it again from the device chosen in
   * its select (the hall's "restart camera"), then calls onTrack with the
   * new track. Resolves to the new track, or null when none opened.
   */
  async restart(kind) {
    const old = this.stream?.getTracks().find((tr) => tr.kind === kind);
    const deviceId = this.selects[kind].value || old?.getSettings().deviceId || '';
    old?.stop();
    let track;
    try {
      track = await openTrack(kind, deviceId);
    } catch (err) {
      console.warn(`hoinghi: cannot reopen ${kind} ${deviceId}`, err);
      try {
        track = await openTrack(kind); // any device of the kind
      } catch (again) {
        this.onError(mediaErrorText(again));
        if (old) this.stream.removeTrack(old);
        this.#show();
        return null;
      }
    }
    if (old) this.stream.removeTrack(old);
    this.stream.addTrack(track);
    this.video.srcObject = null;
    this.#show();
    await this.refresh();
    this.onTrack(track);
    return track;
  }

  async #choose(kind, deviceId) {
    if (!deviceId) return;
    const old = this.stream.getTracks().find((t) => t.kind === kind);
    if (old && old.getSettings().deviceId === deviceId) return;
    // Some systems open one camera at a time: release the old one first.
    old?.stop();
    let track;
    try {
      track = await openTrack(kind, deviceId);
    } catch (err) {
      console.warn(`hoinghi: cannot open ${kind} ${deviceId}`, err);
      this.onError(mediaErrorText(err));
      try {
        track = await openTrack(kind, old?.getSettings().deviceId);
      } catch (again) {
        console.warn(`hoinghi: cannot reopen ${kind}`, again);
        if (old) this.stream.removeTrack(old);
        this.#show();
        return;
      }
    }
    if (old) this.stream.removeTrack(old);
    this.stream.addTrack(track);
    rememberDevice(kind, track.getSettings().deviceId || deviceId);
    this.video.srcObject = null;
    this.#show();
    await this.refresh();
    this.onTrack(track);
  }
}

let sharedAudioContext = null;

// Returns the page's AudioContext, resumed on the next click or key press when
// the browser created it suspended.
function audioContext() {
  if (!sharedAudioContext) {
    sharedAudioContext = new AudioContext();
    const resume = () => {
      if (sharedAudioContext.state === 'suspended') sharedAudioContext.resume();
    };
    document.addEventListener('pointerdown', resume);
    document.addEventListener('keydown', resume);
  }
  return sharedAudioContext;
}

/**
 * LevelMeter draws the loudness of a stream's microphone in a bar element
 * (its first child, a cover over the colour scale, shrinks as the level rises)
 * and sets data-level (0 to 1), and
 * data-paused while the browser waits for a click before measuring sound.
 */
export class LevelMeter {
  constructor(bar) {
    this.bar = bar;
    this.cover = bar.firstElementChild || bar;
    this.source = null;
    this.analyser = null;
    this.frame = 0;
  }

  /** Measures the first audio track of stream, replacing the previous one. */
  attach(stream) {
    this.detach();
    const track = stream.getAudioTracks()[0];
    if (!track) return;
    const ctx = audioContext();
    this.source = ctx.createMediaStreamSource(new MediaStream([track]));
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.source.connect(this.analyser);
    const samples = new Float32Array(this.analyser.fftSize);
    let shown = 0;
    const draw = () => {
      // A context made before any click stays suspended until one (see audioContext).
      this.bar.toggleAttribute('data-paused', ctx.state === 'suspended');
      this.analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const rms = Math.sqrt(sum / samples.length);
      // -60 dBFS and below shows empty, 0 dBFS full; fall back slowly.
      const db = 20 * Math.log10(rms || 1e-6);
      const level = Math.min(1, Math.max(0, (db + 60) / 60));
      shown = Math.max(level, shown * 0.9);
      this.cover.style.transform = `scaleX(${(1 - shown).toFixed(3)})`;
      this.bar.dataset.level = shown.toFixed(2);
      this.frame = requestAnimationFrame(draw);
    };
    this.frame = requestAnimationFrame(draw);
  }

  /** Stops measuring. */
  detach() {
    cancelAnimationFrame(this.frame);
    this.source?.disconnect();
    this.source = null;
    this.analyser = null;
    this.cover.style.transform = 'scaleX(1)';
    this.bar.removeAttribute('data-paused');
  }
}

/**
 * AudioSinks plays remote audio, one <audio> element per participant, in
 * container. When the browser refuses to start sound without a click, it shows
 * unlockButton; a click on it starts every element.
 */
export class AudioSinks {
  constructor(container, unlockButton) {
    this.container = container;
    this.button = unlockButton;
    this.elements = new Map();
    this.button.hidden = true;
    this.button.addEventListener('click', () => this.unlock());
  }

  /** Plays the audio of stream for participant id (replacing an older stream). */
  set(id, stream) {
    let audio = this.elements.get(id);
    if (!audio) {
      audio = document.createElement('audio');
      audio.autoplay = true;
      audio.dataset.participant = id;
      this.container.append(audio);
      this.elements.set(id, audio);
    }
    if (audio.srcObject !== stream) audio.srcObject = stream;
    this.#play(audio);
  }

  /** Stops the audio of participant id. */
  remove(id) {
    const audio = this.elements.get(id);
    if (!audio) return;
    audio.srcObject = null;
    audio.remove();
    this.elements.delete(id);
  }

  /** Stops every audio element. */
  clear() {
    for (const id of [...this.elements.keys()]) this.remove(id);
  }

  /** Starts every element; call it from a click. */
  unlock() {
    this.button.hidden = true;
    for (const audio of this.elements.values()) this.#play(audio);
  }

  #play(audio) {
    audio.play().catch((err) => {
      if (err.name === 'NotAllowedError') {
        this.button.hidden = false;
      } else if (err.name !== 'AbortError') {
        console.warn('hoinghi: audio does not play', err);
      }
    });
  }
}
