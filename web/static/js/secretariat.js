// The secretariat page (/secretariat/?t=TOKEN): the live attendance of every
// invited point — its status (present, late, left early, absent), first
// join, time connected, gaps, the delegates it declared and its result in
// the last roll call — with the totals, and the report to download as XLSX,
// CSV or PDF. It neither sends nor receives media: the signaling connection
// brings the roster (who is connected this second) and attendance_changed,
// on which the page fetches the report again (and every 10 s anyway).
//
// The exports download through fetch, so that a refusal (an expired link,
// a separator the server does not take) shows here as a message in the
// page's language rather than as a broken download; the links keep their
// address for "save link as". The CSV separator is chosen beside the CSV
// button (semicolon by default, as Excel with Vietnamese settings reads
// CSV) and remembered in localStorage under "hoinghi.csvSeparator".

import { readToken } from './session.js';
import { Call, State, closingText } from './call.js';
import { has, initLang, pick, t } from './i18n.js';
import { PointBook, byName, matches } from './points.js';
import {
  DEFAULT_TIME_ZONE, ReportFeed, RollCall, exportURL, formatDuration, formatTime, isSet, rollCallText, setTimeZone, showStage, statusText,
} from './attendance.js';
import { formatClock } from './floor.js';
import { RecordingList, RecordingsAPI } from './recordings.js';
import {
  byId, debugInfo, h, notify, openSession, showRefusal, showSessionRefusal, showStatus,
} from './ui.js';

// How often the report is fetched when no attendance_changed comes, in milliseconds.
const REPORT_INTERVAL = 10000;

// The last conference_state, for the stage line of the header.
let conferenceState = null;

// The open roll call, from the server's roll_call_state: its countdown.
const rollCall = new RollCall();

// Shows the time left to confirm in the open roll call.
function tickRollCall() {
  const left = rollCall.open ? rollCall.remaining() : null;
  ui.rollcallClock.hidden = left === null;
  if (left === null) return;
  ui.rollcallClock.textContent = left > 0 ? t('secretariat.rollcall.left', { time: formatClock(left) }) : t('rollcall.over');
}

const ui = {
  body: document.body,
  title: byId('conf-title'),
  confStage: byId('conf-stage'),
  lang: byId('lang'),
  status: byId('status'),
  refusal: byId('refusal'),
  stage: byId('stage'),
  summary: byId('summary'),
  confTimes: byId('conf-times'),
  rollcallSummary: byId('rollcall-summary'),
  rollcallClock: byId('rollcall-clock'),
  updated: byId('updated'),
  search: byId('search'),
  listBody: byId('list-body'),
  empty: byId('empty'),
  notices: byId('notices'),
  exports: [byId('export-xlsx'), byId('export-csv'), byId('export-pdf')],
  separator: byId('export-separator'),
  exportMessage: byId('export-message'),
};

// Where the chosen CSV separator is remembered.
const SEPARATOR_KEY = 'hoinghi.csvSeparator';

/** An export the server refused (code is its error code) or that did not reach it ("network"). */
class ExportError extends Error {
  constructor(code, body) {
    super(code);
    this.code = code;
    this.body = body;
  }
}

const token = readToken();
const debug = debugInfo();
const book = new PointBook();
let session = null;
let call = null;
let report = null;
let reports = null;
let recordings = null; // RecordingList of the recordings, to download
let exportNotice = null; // what the export message says: {key} while busy, {kind: 'error', code, body} on a refusal

async function main() {
  initLang(ui.lang);
  window.addEventListener('hoinghi:lang', redraw);
  session = await openSession(token, ui.refusal, ui.status);
  if (!session) return;
  if (session.role === 'point') {
    window.location.replace('/point/' + window.location.search);
    return;
  }
  setTimeZone(session.time_zone); // every time on the page in the conference's zone
  ui.title.textContent = session.conference_title || t('app.title');
  // The conference's name stays when the language changes.
  if (session.conference_title) delete ui.title.dataset.i18n;
  document.title = `${t('role.secretariat')} – ${session.conference_title || t('app.title')}`;
  ui.body.dataset.step = 'live';
  ui.stage.hidden = false;
  ui.separator.value = storedSeparator();
  ui.separator.addEventListener('change', () => {
    rememberSeparator(ui.separator.value);
    setExportLinks();
  });
  setExportLinks();
  for (const a of ui.exports) a.addEventListener('click', download);
  ui.search.addEventListener('input', render);
  render();

  reports = new ReportFeed({
    token,
    conferenceId: session.conference_id,
    onReport: (r) => {
      report = r;
      debug.report = r;
      render();
    },
    onError: (err) => {
      console.warn('hoinghi: attendance report', err);
      ui.updated.textContent = t('secretariat.stale');
      ui.updated.dataset.stale = 'true';
    },
  });
  reports.start(REPORT_INTERVAL);
  setInterval(tickRollCall, 500);
  // The recordings, read-only: the secretariat downloads them.
  recordings = new RecordingList({
    api: new RecordingsAPI(token, session.conference_id),
    notices: ui.notices,
    nodes: { panel: byId('recordings'), list: byId('rec-list'), empty: byId('rec-empty'), message: byId('rec-message') },
  });
  recordings.refresh();

  call = new Call({
    token,
    stream: new MediaStream(), // nothing to publish
    iceServers: session.ice_servers,
    on: {
      state: (state) => showStatus(ui.status, state),
      roster: (participants) => {
        book.roster(participants);
        render();
      },
      attendance: () => reports.nudge(),
      rollCall: (msg) => {
        rollCall.update(msg);
        tickRollCall();
        reports.nudge();
      },
      conference: (msg) => {
        conferenceState = msg;
        showStage(ui.confStage, msg, (iso) => formatTime(iso, timeZone()));
        reports.nudge();
        recordings?.update(msg);
      },
      notice: (text) => notify(ui.notices, text),
      closed: (reason, message) => {
        showRefusal(ui.refusal, {
          title: () => t('refusal.closed.console'),
          message: () => closingText(reason, message),
          phone: session.technician_phone,
          reason,
        });
      },
      refused: (refusal) => showSessionRefusal(ui.refusal, refusal),
    },
  });
  call.start();
}

function timeZone() {
  return report?.conference?.time_zone || DEFAULT_TIME_ZONE;
}

// Returns the rows to show: every point of the report (invited first, in
// the order given) and any point connected that the report does not know
// yet. Each row is {id, name, pa (its PointAttendance, or null), live
// (connected, offline or invited, from the roster)}.
function rows() {
  const out = [];
  const seen = new Set();
  for (const pa of report?.points || []) {
    const id = pa.point.id;
    seen.add(id);
    // The roster says who is connected this second; a point it never
    // named was here before this page opened, or never.
    const known = book.points.get(id);
    const live = known ? known.state : pa.stays?.length ? 'offline' : 'invited';
    out.push({ id, name: pa.point.name || id, pa, live });
  }
  for (const p of book.list()) {
    if (!seen.has(p.id)) out.push({ id: p.id, name: p.name, pa: null, live: p.state });
  }
  if (!report) out.sort(byName);
  return out;
}

function render() {
  if (!session) return;
  const tz = timeZone();
  const query = ui.search.value;
  const all = rows();
  const shown = all.filter((r) => matches(r.name, query));
  ui.empty.hidden = shown.length > 0;
  ui.empty.textContent = t(all.length > 0 ? 'console.nomatch' : 'secretariat.empty');
  const lastRollCall = report?.roll_calls?.length ? report.roll_calls.length - 1 : -1;
  ui.listBody.replaceChildren(...shown.map((r) => row(r, tz, lastRollCall)));
  renderSummary(tz, lastRollCall);
}

function row({ id, name, pa, live }, tz, lastRollCall) {
  const status = pa?.status || '';
  const liveText = live === 'connected' ? t('secretariat.live.connected') : live === 'offline' ? t('secretariat.live.offline') : '';
  const result = pa && lastRollCall >= 0 ? pa.roll_calls?.[lastRollCall] : null;
  const expected = pa?.point?.expected_delegates || 0;
  const delegatesText = pa?.checked_in ? (expected ? `${pa.delegates} / ${expected}` : String(pa.delegates)) : expected ? `– / ${expected}` : '–';
  const representative = pa?.representative || '';
  const gaps = pa?.gap_count ? t('secretariat.gaps', { n: pa.gap_count, time: formatDuration(pa.gap_time) }) : '–';
  return h('tr', { 'data-participant': id, 'data-state': live, 'data-status': status || 'unknown' },
    h('td', { class: 'list-name' }, h('span', { class: 'dot', 'data-quality': live === 'connected' ? 'good' : live === 'offline' ? 'poor' : 'none' }), ' ', name),
    h('td', { class: 'list-status' },
      h('span', { class: 'status-badge', 'data-status': status || 'unknown' }, status ? statusText(status) : '–'),
      liveText ? h('span', { class: 'list-live' }, liveText) : null),
    h('td', { class: 'list-first', title: formatTime(pa?.first_join, tz, true) }, formatTime(pa?.first_join, tz) || '–'),
    h('td', { class: 'num list-connected' }, pa && pa.connected > 0 ? formatDuration(pa.connected) : '–'),
    h('td', { class: 'num list-gaps' }, gaps),
    h('td', { class: 'num list-delegates', 'data-delegates': pa?.checked_in ? String(pa.delegates) : '' }, delegatesText),
    h('td', { class: 'list-representative' }, representative || '–'),
    h('td', { class: 'list-rollcall', 'data-rollcall': result?.status || '' },
      result ? rollCallText(result.status) : '–',
      result?.reason ? h('span', { class: 'list-reason' }, ` (${result.reason})`) : null));
}

function renderSummary(tz, lastRollCall) {
  if (!report) {
    ui.summary.textContent = t('secretariat.total', { n: book.connectedCount() });
    ui.confTimes.textContent = '';
    ui.rollcallSummary.textContent = '';
    return;
  }
  const s = report.summary || {};
  ui.summary.textContent = t('secretariat.summary', {
    expected: s.points_expected || 0,
    attended: s.points_attended || 0,
    absent: s.points_absent || 0,
    delegates: s.delegates || 0,
    connected: book.connectedCount(),
  }) + (s.points_late || s.points_left_early ? ' ' + t('secretariat.summary.more', { late: s.points_late || 0, early: s.points_left_early || 0 }) : '');
  ui.summary.dataset.attended = String(s.points_attended || 0);
  ui.summary.dataset.delegates = String(s.delegates || 0);

  const times = [];
  if (isSet(report.conference?.scheduled_start)) times.push(t('secretariat.scheduled', { time: formatTime(report.conference.scheduled_start, tz, true) }));
  if (isSet(report.actual_start)) times.push(t('secretariat.started', { time: formatTime(report.actual_start, tz, true) }));
  if (isSet(report.end)) {
    times.push(t('secretariat.ended', { time: formatTime(report.end, tz, true) }));
  } else if (isSet(report.actual_start)) {
    times.push(t('secretariat.running'));
  } else {
    times.push(t('secretariat.notstarted'));
  }
  ui.confTimes.textContent = times.join(' · ');

  if (lastRollCall < 0) {
    ui.rollcallSummary.textContent = t('secretariat.rollcall.none');
  } else {
    const rc = report.roll_calls[lastRollCall];
    const count = { present: 0, late: 0, absent: 0, pending: 0 };
    for (const pa of report.points || []) {
      if (!pa.invited) continue;
      const st = pa.roll_calls?.[lastRollCall]?.status;
      if (st in count) count[st]++;
    }
    const open = !isSet(rc.closed_at);
    ui.rollcallSummary.textContent = t(open ? 'secretariat.rollcall.open' : 'secretariat.rollcall.closed', {
      n: lastRollCall + 1, time: formatTime(rc.start, tz), ...count,
    });
  }
  ui.updated.textContent = t('secretariat.updated', { time: formatTime(report.generated_at, tz) });
  delete ui.updated.dataset.stale;
}

function redraw() {
  if (!session) return;
  if (call) showStatus(ui.status, call.state);
  if (conferenceState) showStage(ui.confStage, conferenceState, (iso) => formatTime(iso, timeZone()));
  render();
  showExportNotice();
  recordings?.render();
}

// Exports

function storedSeparator() {
  try {
    const v = localStorage.getItem(SEPARATOR_KEY);
    if ([...ui.separator.options].some((o) => o.value === v)) return v;
  } catch {
    // Storage may be off (private mode); use the default.
  }
  return ui.separator.options[0].value;
}

function rememberSeparator(v) {
  try {
    localStorage.setItem(SEPARATOR_KEY, v);
  } catch {
    // Not remembered; the choice holds for this page.
  }
}

function setExportLinks() {
  for (const a of ui.exports) {
    const params = a.dataset.format === 'csv' ? { separator: ui.separator.value } : undefined;
    a.href = exportURL(session.conference_id, a.dataset.format, token, params);
  }
}

// Returns the file name of a Content-Disposition header, or ''.
function filenameOf(disposition) {
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition || '');
  if (!m) return '';
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

// Downloads the export of link a's click through fetch: saves the file
// under the server's name, or says why the server refused it.
async function download(ev) {
  const a = ev.currentTarget;
  // A click with a modifier opens the address as the user asks.
  if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  if (a.getAttribute('aria-busy') === 'true') return;
  a.setAttribute('aria-busy', 'true');
  a.dataset.export = 'busy';
  setExportNotice({ key: 'secretariat.export.busy' });
  try {
    const res = await fetch(a.href, { cache: 'no-store' });
    if (!res.ok) {
      let body = null;
      try {
        body = await res.json();
      } catch {
        body = null;
      }
      throw new ExportError(body?.error || `HTTP ${res.status}`, body);
    }
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const save = h('a', { href: url, download: filenameOf(res.headers.get('Content-Disposition')) || `bao-cao.${a.dataset.format}`, hidden: '' });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    a.dataset.export = 'done';
    setExportNotice(null);
  } catch (err) {
    // Anything but a refusal is the transfer failing.
    const e = err instanceof ExportError ? err : new ExportError('network');
    if (e.code === 'network') console.warn('hoinghi: export', err);
    a.dataset.export = 'failed';
    setExportNotice({ kind: 'error', code: e.code, body: e.body });
  } finally {
    a.removeAttribute('aria-busy');
  }
}

function setExportNotice(notice) {
  exportNotice = notice;
  showExportNotice();
}

// Shows the export message in the page's language: a refusal by its code,
// else the server's own message, else the code.
function showExportNotice() {
  const n = exportNotice;
  const node = ui.exportMessage;
  node.hidden = !n;
  if (!n) {
    node.textContent = '';
    delete node.dataset.kind;
    delete node.dataset.code;
    return;
  }
  let text;
  if (n.key) {
    text = t(n.key);
  } else {
    const key = `secretariat.export.error.${n.code}`;
    const reason = has(key) ? t(key) : pick(n.body?.message, n.body?.message_en) || t('error.other', { code: n.code });
    text = t('secretariat.export.failed', { error: reason });
  }
  node.textContent = text;
  node.dataset.kind = n.kind || 'info';
  if (n.code) node.dataset.code = n.code;
  else delete node.dataset.code;
}

main().catch((err) => {
  console.error('hoinghi: secretariat page', err);
  notify(ui.notices, t('page.error', { error: err.message || err }), 60);
});
