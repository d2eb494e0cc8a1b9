// The secretariat page (/secretariat/?t=TOKEN): the live attendance of every
// invited point — its status (present, late, left early, absent), first
// join, time connected, gaps, the delegates it declared and its result in
// the last roll call — with the totals, and the report to download as XLSX,
// CSV or PDF. It neither sends nor receives media: the signaling connection
// brings the roster (who is connected this second) and attendance_changed,
// on which the page fetches the report again (and every 10 s anyway).

import { readToken } from './session.js';
import { Call, State, closingText } from './call.js';
import { initLang, t } from './i18n.js';
import { PointBook, byName, matches } from './points.js';
import {
  DEFAULT_TIME_ZONE, ReportFeed, exportURL, formatDuration, formatTime, isSet, rollCallText, statusText,
} from './attendance.js';
import {
  byId, debugInfo, h, notify, openSession, showRefusal, showSessionRefusal, showStatus,
} from './ui.js';

// How often the report is fetched when no attendance_changed comes, in milliseconds.
const REPORT_INTERVAL = 10000;

const ui = {
  body: document.body,
  title: byId('conf-title'),
  lang: byId('lang'),
  status: byId('status'),
  refusal: byId('refusal'),
  stage: byId('stage'),
  summary: byId('summary'),
  confTimes: byId('conf-times'),
  rollcallSummary: byId('rollcall-summary'),
  updated: byId('updated'),
  search: byId('search'),
  listBody: byId('list-body'),
  empty: byId('empty'),
  notices: byId('notices'),
  exports: [byId('export-xlsx'), byId('export-csv'), byId('export-pdf')],
};

const token = readToken();
const debug = debugInfo();
const book = new PointBook();
let session = null;
let call = null;
let report = null;
let reports = null;

async function main() {
  initLang(ui.lang);
  window.addEventListener('hoinghi:lang', redraw);
  session = await openSession(token, ui.refusal, ui.status);
  if (!session) return;
  if (session.role === 'point') {
    window.location.replace('/point/' + window.location.search);
    return;
  }
  ui.title.textContent = session.conference_title || t('app.title');
  document.title = `${t('role.secretariat')} – ${session.conference_title || t('app.title')}`;
  ui.body.dataset.step = 'live';
  ui.stage.hidden = false;
  for (const a of ui.exports) a.href = exportURL(session.conference_id, a.dataset.format, token);
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
      rollCall: () => reports.nudge(),
      conference: () => reports.nudge(),
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
  return report?.Conference?.time_zone || DEFAULT_TIME_ZONE;
}

// Returns the rows to show: every point of the report (invited first, in
// the order given) and any point connected that the report does not know
// yet. Each row is {id, name, pa (its PointAttendance, or null), live
// (connected, offline or invited, from the roster)}.
function rows() {
  const out = [];
  const seen = new Set();
  for (const pa of report?.Points || []) {
    const id = pa.Point.id;
    seen.add(id);
    // The roster says who is connected this second; a point it never
    // named was here before this page opened, or never.
    const known = book.points.get(id);
    const live = known ? known.state : pa.Stays?.length ? 'offline' : 'invited';
    out.push({ id, name: pa.Point.name || id, pa, live });
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
  const lastRollCall = report?.RollCalls?.length ? report.RollCalls.length - 1 : -1;
  ui.listBody.replaceChildren(...shown.map((r) => row(r, tz, lastRollCall)));
  renderSummary(tz, lastRollCall);
}

function row({ id, name, pa, live }, tz, lastRollCall) {
  const status = pa?.Status || '';
  const liveText = live === 'connected' ? t('secretariat.live.connected') : live === 'offline' ? t('secretariat.live.offline') : '';
  const result = pa && lastRollCall >= 0 ? pa.RollCalls?.[lastRollCall] : null;
  const expected = pa?.Point?.expected_delegates || 0;
  const delegatesText = pa?.CheckedIn ? (expected ? `${pa.Delegates} / ${expected}` : String(pa.Delegates)) : expected ? `– / ${expected}` : '–';
  const representative = pa?.Representative || '';
  const gaps = pa?.Gaps ? t('secretariat.gaps', { n: pa.Gaps, time: formatDuration(pa.GapTime) }) : '–';
  return h('tr', { 'data-participant': id, 'data-state': live, 'data-status': status || 'unknown' },
    h('td', { class: 'list-name' }, h('span', { class: 'dot', 'data-quality': live === 'connected' ? 'good' : live === 'offline' ? 'poor' : 'none' }), ' ', name),
    h('td', { class: 'list-status' },
      h('span', { class: 'status-badge', 'data-status': status || 'unknown' }, status ? statusText(status) : '–'),
      liveText ? h('span', { class: 'list-live' }, liveText) : null),
    h('td', { class: 'list-first', title: formatTime(pa?.FirstJoin, tz, true) }, formatTime(pa?.FirstJoin, tz) || '–'),
    h('td', { class: 'num list-connected' }, pa && pa.Connected > 0 ? formatDuration(pa.Connected) : '–'),
    h('td', { class: 'num list-gaps' }, gaps),
    h('td', { class: 'num list-delegates', 'data-delegates': pa?.CheckedIn ? String(pa.Delegates) : '' }, delegatesText),
    h('td', { class: 'list-representative' }, representative || '–'),
    h('td', { class: 'list-rollcall', 'data-rollcall': result?.Status || '' },
      result ? rollCallText(result.Status) : '–',
      result?.Reason ? h('span', { class: 'list-reason' }, ` (${result.Reason})`) : null));
}

function renderSummary(tz, lastRollCall) {
  if (!report) {
    ui.summary.textContent = t('secretariat.total', { n: book.connectedCount() });
    ui.confTimes.textContent = '';
    ui.rollcallSummary.textContent = '';
    return;
  }
  const s = report.Summary || {};
  ui.summary.textContent = t('secretariat.summary', {
    expected: s.PointsExpected || 0,
    attended: s.PointsAttended || 0,
    absent: s.PointsAbsent || 0,
    delegates: s.Delegates || 0,
    connected: book.connectedCount(),
  }) + (s.PointsLate || s.PointsLeftEarly ? ' ' + t('secretariat.summary.more', { late: s.PointsLate || 0, early: s.PointsLeftEarly || 0 }) : '');
  ui.summary.dataset.attended = String(s.PointsAttended || 0);
  ui.summary.dataset.delegates = String(s.Delegates || 0);

  const times = [];
  if (isSet(report.Conference?.scheduled_start)) times.push(t('secretariat.scheduled', { time: formatTime(report.Conference.scheduled_start, tz, true) }));
  if (isSet(report.ActualStart)) times.push(t('secretariat.started', { time: formatTime(report.ActualStart, tz, true) }));
  if (isSet(report.End)) {
    times.push(t('secretariat.ended', { time: formatTime(report.End, tz, true) }));
  } else if (isSet(report.ActualStart)) {
    times.push(t('secretariat.running'));
  } else {
    times.push(t('secretariat.notstarted'));
  }
  ui.confTimes.textContent = times.join(' · ');

  if (lastRollCall < 0) {
    ui.rollcallSummary.textContent = t('secretariat.rollcall.none');
  } else {
    const rc = report.RollCalls[lastRollCall];
    const count = { present: 0, late: 0, absent: 0, pending: 0 };
    for (const pa of report.Points || []) {
      if (!pa.Invited) continue;
      const st = pa.RollCalls?.[lastRollCall]?.Status;
      if (st in count) count[st]++;
    }
    const open = !isSet(rc.Closed);
    ui.rollcallSummary.textContent = t(open ? 'secretariat.rollcall.open' : 'secretariat.rollcall.closed', {
      n: lastRollCall + 1, time: formatTime(rc.Start, tz), ...count,
    });
  }
  ui.updated.textContent = t('secretariat.updated', { time: formatTime(report.GeneratedAt, tz) });
  delete ui.updated.dataset.stale;
}

function redraw() {
  if (!session) return;
  if (call) showStatus(ui.status, call.state);
  render();
}

main().catch((err) => {
  console.error('hoinghi: secretariat page', err);
  notify(ui.notices, t('page.error', { error: err.message || err }), 60);
});
