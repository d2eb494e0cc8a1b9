// Attendance: the live report the hall and the secretariat fetch from the
// server (GET /api/conferences/{id}/report, schema Report of the OpenAPI
// document /api/openapi.json: snake_case names, times in RFC 3339 and left
// out when not set, durations in seconds), the roll
// call a point answers, and the Vietnamese way of writing their times.

import { t } from './i18n.js';
import { showOnAir } from './ui.js';

/** The conference time zone when the conference names none. */
export const DEFAULT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

// How long a burst of attendance_changed nudges is awaited before fetching,
// and when the report is fetched once more after that: the server writes
// events behind, so the first fetch may come a moment before the event is
// stored.
const NUDGE_DELAY = 300;
const SETTLE_DELAY = 1500;

/**
 * ReportFeed keeps the live attendance report of one conference: fetch it
 * once with refresh(), again after every nudge() (debounced), and every
 * interval milliseconds as a fallback once start() is called.
 *
 * options: token, conferenceId, onReport(report), onError(err)
 */
export class ReportFeed {
  constructor({ token, conferenceId, onReport, onError }) {
    this.url = `/api/conferences/${encodeURIComponent(conferenceId)}/report`;
    this.token = token;
    this.onReport = onReport;
    this.onError = onError || ((err) => console.warn('hoinghi: attendance report', err));
    this.report = null;
    this.timer = 0;
    this.settle = 0;
    this.poll = 0;
    this.seq = 0; // of the latest fetch; older answers are dropped
  }

  /** Fetches the report every interval milliseconds, and now. */
  start(interval) {
    clearInterval(this.poll);
    this.poll = setInterval(() => this.refresh(), interval);
    return this.refresh();
  }

  /** Fetches the report soon, once for a burst of calls, and once more a moment later. */
  nudge() {
    clearTimeout(this.timer);
    clearTimeout(this.settle);
    this.timer = setTimeout(() => {
      this.refresh();
      this.settle = setTimeout(() => this.refresh(), SETTLE_DELAY);
    }, NUDGE_DELAY);
  }

  /** Fetches the report now and hands it to onReport; never rejects. */
  async refresh() {
    const seq = ++this.seq;
    try {
      const res = await fetch(this.url, {
        headers: { Accept: 'application/json', Authorization: 'Bearer ' + this.token },
        cache: 'no-store',
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const report = await res.json();
      if (seq !== this.seq) return;
      this.report = report;
      this.onReport(report);
    } catch (err) {
      if (seq === this.seq) this.onError(err);
    }
  }
}

/**
 * Returns the address that downloads the report as a file (format xlsx, csv
 * or pdf), with the other parameters of params (such as {separator: 'comma'}
 * for the CSV) before the token.
 */
export function exportURL(conferenceId, format, token, params) {
  const q = new URLSearchParams({ format, ...params });
  if (token) q.set('t', token);
  return `/api/conferences/${encodeURIComponent(conferenceId)}/export?${q}`;
}

/** Reports whether an RFC 3339 time is set: present and not Go's zero time (year 1), which older servers wrote. */
export function isSet(iso) {
  if (!iso) return false;
  const ms = Date.parse(iso);
  return !Number.isNaN(ms) && new Date(ms).getUTCFullYear() > 1;
}

const formats = new Map();

function formatter(timeZone, withDate) {
  const key = `${timeZone}|${withDate}`;
  let f = formats.get(key);
  if (!f) {
    const opts = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    if (withDate) Object.assign(opts, { day: '2-digit', month: '2-digit', year: 'numeric' });
    try {
      f = new Intl.DateTimeFormat('vi-VN', { ...opts, timeZone });
    } catch {
      f = new Intl.DateTimeFormat('vi-VN', { ...opts, timeZone: DEFAULT_TIME_ZONE });
    }
    formats.set(key, f);
  }
  return f;
}

/**
 * Returns an RFC 3339 time as Vietnamese write it in timeZone: "08:05",
 * or with withDate "08:05 26/11/2026"; "" for an unset time.
 */
export function formatTime(iso, timeZone, withDate = false) {
  if (!isSet(iso)) return '';
  const parts = formatter(timeZone || DEFAULT_TIME_ZONE, withDate).formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type)?.value || '';
  const clock = `${get('hour')}:${get('minute')}`;
  return withDate ? `${clock} ${get('day')}/${get('month')}/${get('year')}` : clock;
}

/** Returns a duration in seconds as "1 giờ 05 phút", "12 phút", "40 giây". */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  if (h > 0) return t('duration.hm', { h, m: String(m).padStart(2, '0') });
  if (m > 0) return t('duration.m', { m });
  return t('duration.s', { s: total });
}

/** The attendance statuses of a point, as the report names them. */
export const STATUSES = ['present', 'late', 'left_early', 'absent'];

/** Returns the text of a point's attendance status (present, late, left_early, absent). */
export function statusText(status) {
  switch (status) {
    case 'present':
      return t('attendance.present');
    case 'late':
      return t('attendance.late');
    case 'left_early':
      return t('attendance.left_early');
    case 'absent':
      return t('attendance.absent');
    default:
      return status || '';
  }
}

/** Returns the text of a roll-call result (present, late, absent, pending). */
export function rollCallText(status) {
  switch (status) {
    case 'present':
      return t('rollcall.present');
    case 'late':
      return t('rollcall.late');
    case 'absent':
      return t('rollcall.absent');
    case 'pending':
      return t('rollcall.pending');
    default:
      return status || '';
  }
}

/**
 * RollCall keeps the latest roll_call_state and the offset between the
 * server's clock and this browser's, to count down to its deadline.
 */
export class RollCall {
  constructor() {
    this.state = null;
    this.offset = 0;
  }

  /** Applies a roll_call_state message. */
  update(msg) {
    this.state = msg;
    const server = Date.parse(msg.server_time);
    if (!Number.isNaN(server)) this.offset = server - Date.now();
  }

  /** Reports whether a roll call is open. */
  get open() {
    return !!this.state?.open;
  }

  /** Returns the point ids that confirmed, in order. */
  get confirmed() {
    return Array.isArray(this.state?.confirmed) ? this.state.confirmed : [];
  }

  /** Reports whether point id confirmed in the current roll call. */
  hasConfirmed(id) {
    return this.confirmed.includes(id);
  }

  /** Returns the milliseconds left before the deadline (negative past it), or null without one. */
  remaining() {
    if (!this.state || !isSet(this.state.deadline)) return null;
    return Date.parse(this.state.deadline) - (Date.now() + this.offset);
  }
}

/**
 * Returns the stage of a conference_state: draft, scheduled, testing,
 * running, ended or archived ('' before the first); from an older server
 * without status, running or ended or not started.
 */
export function conferenceStage(cs) {
  if (!cs) return '';
  if (cs.status) return cs.status;
  if (cs.running) return 'running';
  return cs.ended_at ? 'ended' : 'scheduled';
}

/**
 * Returns the line that says where the conference is: not started, testing,
 * running since, ended at (the times as clock(iso) writes them).
 */
export function conferenceStageText(cs, clock) {
  switch (conferenceStage(cs)) {
    case 'testing': return t('conference.testing');
    case 'running': return t('conference.running', { time: clock(cs.started_at) });
    case 'ended':
    case 'archived':
      return cs.sessions > 1 ? t('conference.ended.sessions', { time: clock(cs.ended_at), n: cs.sessions })
        : t('conference.ended', { time: clock(cs.ended_at) });
    case '': return '';
    default: return t('conference.notstarted');
  }
}

/**
 * Shows the stage of conference_state cs in node (a page's header line),
 * and in the header whether it is being recorded or broadcast live.
 */
export function showStage(node, cs, clock) {
  showOnAir(cs, clock);
  const text = conferenceStageText(cs, clock);
  node.hidden = !text;
  node.textContent = text ? t('conference.stage', { text, zone: zoneLabel() }) : '';
  node.dataset.stage = conferenceStage(cs);
}

// The time zone the page writes times in: the conference's, whatever the
// browser's (setTimeZone).
let pageTimeZone = DEFAULT_TIME_ZONE;

/** Makes tz (an IANA zone; unset or unknown: the default) the page's time zone. */
export function setTimeZone(tz) {
  pageTimeZone = validZone(tz) ? tz : DEFAULT_TIME_ZONE;
}

/** Returns the page's time zone: the conference's. */
export function timeZoneOfPage() {
  return pageTimeZone;
}

function validZone(tz) {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Returns the UTC offset of tz (default: the page's) at date, as "UTC+07:00". */
export function zoneLabel(tz = pageTimeZone, date = new Date()) {
  const min = zoneOffset(tz, date);
  const sign = min < 0 ? '-' : '+';
  const a = Math.abs(min);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

// Returns the offset of tz from UTC at date, in minutes.
function zoneOffset(tz, date) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(date);
  const get = (type) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((wall - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

/** Returns an RFC 3339 time as the wall-clock "YYYY-MM-DDTHH:MM" of tz, for a datetime-local input. */
export function toZoneInput(iso, tz = pageTimeZone) {
  const d = new Date(iso);
  const shifted = new Date(d.getTime() + zoneOffset(tz, d) * 60000);
  return shifted.toISOString().slice(0, 16);
}

/** Returns the wall-clock "YYYY-MM-DDTHH:MM" of tz (a datetime-local input) as an RFC 3339 time. */
export function fromZoneInput(value, tz = pageTimeZone) {
  const wall = Date.parse(value + ':00Z');
  if (Number.isNaN(wall)) return '';
  // The offset at the wall-clock time, looked up twice for a change of offset.
  let utc = wall - zoneOffset(tz, new Date(wall)) * 60000;
  utc = wall - zoneOffset(tz, new Date(utc)) * 60000;
  return new Date(utc).toISOString();
}
