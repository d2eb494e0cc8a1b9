// Content: a screen, a window or a tab shared beside the camera, shown to
// everyone as the main view (docs/protocol.md, "Content (screen and
// slides)"). The server names the sharer in content_state; the picture
// comes in the content slot, MediaStream "content".

import { showVideo } from './media.js';
import { t } from './i18n.js';
import { debugInfo } from './ui.js';

/** The MediaStream id of the content slot. */
export const CONTENT_STREAM = 'content';

/**
 * Asks the browser for a screen, a window or a tab to share, sharp and
 * slow: up to 1920×1080 at up to 5 frames a second. Resolves its video
 * track; rejects when the user declines.
 */
export async function captureContent() {
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: { width: { ideal: 1920, max: 1920 }, height: { ideal: 1080, max: 1080 }, frameRate: { ideal: 5, max: 5 } },
    audio: false,
  });
  return stream.getVideoTracks()[0];
}

/**
 * ContentView shows the conference's content in screen (a .screen with a
 * <video>, a label and a placeholder) and runs the page's share button.
 * layout(active) is called whenever content starts or ends, for the page
 * to make it its main view. window.hoinghi.content is the last
 * content_state, window.hoinghi.contentFrames counts the frames of the
 * content shown, and window.hoinghi.timing.firstContentFrame is when the
 * first frame of the current content was shown (Date.now(), for comparing
 * with timing.contentShare of the sharing page: when its share button was
 * pressed, before the browser's choice of what to share).
 */
export class ContentView {
  constructor({ screen, video, label, placeholder, button, call, notify, layout }) {
    Object.assign(this, { screen, video, label, placeholder, button, call, notify, layout });
    this.state = null;
    this.remote = null; // the content slot's track
    this.busy = false;
    this.debug = debugInfo();
    this.debug.contentFrames = 0;
    button?.addEventListener('click', () => this.toggle());
    this.render();
  }

  /** Takes the content slot's track, when it arrives. */
  setTrack(track) {
    this.remote = track;
    track.addEventListener('unmute', () => this.render());
    track.addEventListener('mute', () => this.render());
    this.render();
  }

  /** Applies a content_state. */
  update(msg) {
    const before = this.state?.since || '';
    this.state = msg;
    if ((msg.since || '') !== before) this.debug.timing.firstContentFrame = 0;
    this.render();
  }

  /** Tells that this page's content ended, and why. */
  ended(reason) {
    if (reason && reason !== 'stopped') this.notify(t('content.ended.' + reason), 15);
    this.render();
  }

  /** Forgets the remote track (the page reconnects). */
  reset() {
    this.remote = null;
    this.state = null;
    this.render();
  }

  /** Whether someone shares content now. */
  get active() {
    return !!this.state?.participant_id;
  }

  async toggle() {
    const call = this.call();
    if (!call || this.busy) return;
    if (call.contentTrack) {
      call.stopContent();
      this.render();
      return;
    }
    this.busy = true;
    this.debug.timing.contentShare = Date.now(); // the user pressed share
    this.render();
    try {
      const track = await captureContent();
      if (!(await call.shareContent(track))) track.stop();
    } catch (err) {
      console.warn('hoinghi: screen capture', err);
      this.notify(t('content.denied'), 10);
    } finally {
      this.busy = false;
      this.render();
    }
  }

  render() {
    const call = this.call();
    const active = this.active;
    const mine = active && this.state.participant_id === this.debug.participantId;
    this.screen.hidden = !active;
    this.screen.dataset.mine = mine ? 'true' : 'false';
    if (this.button) {
      this.button.textContent = t(call?.contentTrack ? 'content.stop' : 'content.share');
      this.button.disabled = this.busy;
      this.button.dataset.sharing = call?.contentTrack ? 'true' : 'false';
    }
    this.layout(active);
    if (!active) {
      this.video.srcObject = null;
      return;
    }
    this.label.textContent = mine ? t('content.self') : t('content.label', { name: this.state.name });
    const track = mine ? call?.contentTrack : this.remote;
    if (!track) {
      this.video.srcObject = null;
      this.placeholder.hidden = false;
      return;
    }
    if (this.video.srcObject?.getVideoTracks()[0] !== track) {
      showVideo(this.video, new MediaStream([track]));
      this.#countFrames();
    }
    this.placeholder.hidden = !track.muted;
  }

  // Counts the frames shown and marks the first of each content.
  #countFrames() {
    if (!this.video.requestVideoFrameCallback || this.counting) return;
    this.counting = true;
    const frame = () => {
      this.debug.contentFrames++;
      if (!this.debug.timing.firstContentFrame && this.active) this.debug.timing.firstContentFrame = Date.now();
      this.video.requestVideoFrameCallback(frame);
    };
    this.video.requestVideoFrameCallback(frame);
  }
}
