// Floor: the floor state the server sends (floor_state, see docs/protocol.md
// "Floor control"), counted down against the server's clock, and the texts
// the point page and the console show for it.

import { t } from './i18n.js';
import { timeZoneOfPage } from './attendance.js';

/** The MediaStream id of the speaker slots a point receives. */
export const SPEAKER_STREAM = 'speaker';

/** The track (msid) id of the speaker's video slot; the audio slots are speaker-audio-0 to -2. */
export const SPEAKER_VIDEO = 'speaker-video';

/**
 * Floor keeps the latest floor_state and the offset between the server's
 * clock and this browser's, so that countdowns agree with the server even
 * when the browser's clock is off.
 */
export class Floor {
  constructor() {
    this.version = -1;
    this.discussion = false;
    this.queue = [];
    this.holders = [];
    this.offset = 0; // server clock minus local clock, in milliseconds
    this.known = false; // a floor_state has arrived
    this.defaultSeconds = 0; // the conference's speaking time, 0 until known
  }

  /**
   * Applies a floor_state message. fresh marks the first state on a new
   * connection, taken whatever its version (the server may have restarted).
   * Returns false when msg is older than the state kept.
   */
  update(msg, fresh = false) {
    if (!fresh && msg.version < this.version) return false;
    this.version = msg.version;
    this.discussion = !!msg.discussion;
    this.queue = Array.isArray(msg.queue) ? [...msg.queue].sort((a, b) => a.position - b.position) : [];
    this.holders = Array.isArray(msg.holders) ? msg.holders : [];
    this.defaultSeconds = Number(msg.default_seconds) || 0;
    const server = Date.parse(msg.server_time);
    if (!Number.isNaN(server)) this.offset = server - Date.now();
    this.known = true;
    return true;
  }

  /** Returns the server's time now, in milliseconds since the epoch. */
  now() {
    return Date.now() + this.offset;
  }

  /** Returns the milliseconds left in holder's turn (negative past the deadline), or null without a limit. */
  remaining(holder) {
    if (!holder?.deadline) return null;
    const deadline = Date.parse(holder.deadline);
    return Number.isNaN(deadline) ? null : deadline - this.now();
  }

  /** Returns the turn of point id, or undefined. */
  holder(id) {
    return this.holders.find((h) => h.point_id === id);
  }

  /** Returns the request of point id in the queue, or undefined. */
  request(id) {
    return this.queue.find((r) => r.point_id === id);
  }
}

/** Returns ms as m:ss (h:mm:ss past an hour), rounding up, with a minus sign past zero. */
export function formatClock(ms) {
  const sign = ms < 0 ? '−' : '';
  const total = ms < 0 ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${sign}${h}:${String(m).padStart(2, '0')}:${s}` : `${sign}${m}:${s}`;
}

/**
 * Fills a countdown element for holder: the time left, or the time spoken
 * when the turn has no limit; data-over is set once the time is up.
 */
export function showClock(node, floor, holder) {
  const left = floor.remaining(holder);
  if (left === null) {
    const spoken = floor.now() - Date.parse(holder.since);
    node.textContent = t('floor.clock.nolimit', { time: formatClock(Math.max(0, Math.floor(spoken / 1000) * 1000)) });
    node.removeAttribute('data-over');
    return;
  }
  node.textContent = left > 0 ? formatClock(left) : t('floor.clock.over', { time: formatClock(left) });
  node.toggleAttribute('data-over', left <= 0);
}

/** Returns the time of an RFC 3339 timestamp as HH:MM in the conference's time zone (setTimeZone). */
export function clockTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString('vi-VN', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: timeZoneOfPage() });
}

// The reasons the server gives a refused floor action, and the text each
// gets.
const REASONS = {
  already_queued: 'floor.why.queued',
  already_holding: 'floor.why.holding',
  not_queued: 'floor.why.notqueued',
  not_holding: 'floor.why.notholding',
  no_such_turn: 'floor.why.notholding',
  queue_empty: 'floor.why.empty',
  not_invited: 'floor.why.notinvited',
  not_running: 'floor.why.notrunning',
};

/** Returns a plain sentence (in the page's language) for an error the server answered a floor action with. */
export function floorErrorText(msg) {
  const key = REASONS[msg.reason];
  if (key) return t(key);
  switch (msg.code) {
    case 'forbidden':
    case 'conflict':
    case 'bad_request':
    case 'internal':
      return t('floor.error.' + msg.code);
    default:
      return t('error.other', { code: msg.code || '?' });
  }
}

/**
 * Returns the id (msid) the server gave the track received in the m-section
 * mid of sdp, or "". Browsers may name remote tracks as they like; the SDP
 * keeps the server's names (speaker-video, speaker-audio-0, ...).
 */
export function msidTrack(sdp, mid) {
  if (!sdp || mid === null || mid === undefined) return '';
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const lines = section.split(/\r?\n/);
    if (!lines.some((l) => l === `a=mid:${mid}`)) continue;
    const msid = lines.find((l) => l.startsWith('a=msid:'));
    return msid ? msid.slice('a=msid:'.length).split(' ')[1] || '' : '';
  }
  return '';
}
