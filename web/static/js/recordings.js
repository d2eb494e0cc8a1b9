// Recordings and the livestream, as the console and the secretariat show
// them (routes /api/conferences/{id}/recordings… and /livestream of the
// OpenAPI document /api/openapi.json). The technician's console starts and
// stops the recording, composes a recording's archive (the job's progress
// is polled every second while it runs), deletes recordings and runs the
// livestream to an RTMP(S) server or as HLS served here; the secretariat
// lists the recordings and downloads their files, and nothing more.
//
// The requests carry the page's link as a bearer token, or, on a page
// entered with a login, the login cookie and its CSRF header; download
// links, opened outside fetch, carry the link in ?t=.

import { has, pick, t } from './i18n.js';
import { csrfHeaders } from './session.js';
import { formatTime, timeZoneOfPage } from './attendance.js';
import { debugInfo, h, notify } from './ui.js';

// How often a running recording is listed again (its duration and size grow).
const ACTIVE_INTERVAL = 3000;
// How often a read-only list (the secretariat's) is fetched anyway.
const READ_INTERVAL = 30000;
// How often an archive job is polled while it runs.
const JOB_INTERVAL = 1000;
// How often a running livestream's state (its bitrate) is fetched.
const LIVE_INTERVAL = 2000;

/** An API answer that is not 2xx: code is the server's error code, or "network". */
export class RecordingError extends Error {
  constructor(status, body) {
    super(body?.message_en || body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.code = this.body.error || (status ? `http_${status}` : 'network');
  }
}

/**
 * Returns the text that explains err (a RecordingError, or any error) in
 * the page's language: the page's own text of its code, else the
 * server's message, else the code.
 */
export function errorText(err) {
  const code = err?.code || 'network';
  const key = 'recording.error.' + code;
  if (has(key)) return t(key);
  return pick(err?.body?.message, err?.body?.message_en) || t('error.other', { code });
}

/**
 * RecordingsAPI calls the recording and livestream routes of conference
 * conferenceId with the page's token (or its login cookie when the token
 * is ""). Every method resolves to the JSON answer (null for none) or
 * rejects with a RecordingError.
 */
export class RecordingsAPI {
  constructor(token, conferenceId) {
    this.token = token;
    this.conferenceId = conferenceId;
    this.base = `/api/conferences/${encodeURIComponent(conferenceId)}`;
  }

  /**
   * Returns the full address of the HLS playlist of a LiveState's url:
   * the server names the file ("index.m3u8"), served under
   * /live/{id}/; an absolute path or address is kept.
   */
  playlistURL(url) {
    const path = /^(\/|[a-z]+:)/i.test(url) ? url : `/live/${encodeURIComponent(this.conferenceId)}/${url}`;
    return new URL(path, window.location.href).href;
  }

  async call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (this.token) headers.Authorization = 'Bearer ' + this.token;
    else if (method !== 'GET') Object.assign(headers, csrfHeaders());
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(this.base + path, init);
    } catch (err) {
      const e = new RecordingError(0, null);
      e.cause = err;
      throw e;
    }
    let json = null;
    if (res.status !== 204) {
      try {
        json = await res.json();
      } catch {
        json = null;
      }
    }
    if (!res.ok) throw new RecordingError(res.status, json);
    return json;
  }

  /** Lists the recordings: {active?, recordings}. */
  list() { return this.call('GET', '/recordings'); }
  /** Returns one recording, with its archive job. */
  get(id) { return this.call('GET', `/recordings/${encodeURIComponent(id)}`); }
  /** Starts recording the conference. */
  start() { return this.call('POST', '/recordings'); }
  /** Stops recording id. */
  stop(id) { return this.call('POST', `/recordings/${encodeURIComponent(id)}/stop`); }
  /** Deletes recording id with its files. */
  remove(id) { return this.call('DELETE', `/recordings/${encodeURIComponent(id)}`); }
  /** Starts composing the archive of recording id. */
  compose(id) { return this.call('POST', `/recordings/${encodeURIComponent(id)}/archive`); }
  /** Returns the livestream's state. */
  live() { return this.call('GET', '/livestream'); }
  /** Starts the livestream: {target: 'rtmp', url} or {target: 'hls'}. */
  startLive(req) { return this.call('POST', '/livestream', req); }
  /** Stops the livestream. */
  stopLive() { return this.call('DELETE', '/livestream'); }

  /** Returns the address that downloads file name of recording id. */
  fileURL(id, name) {
    const url = `${this.base}/recordings/${encodeURIComponent(id)}/files/${encodeURIComponent(name)}`;
    return this.token ? `${url}?t=${encodeURIComponent(this.token)}` : url;
  }
}

/** Returns seconds as "h:mm:ss". */
export function formatHMS(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const hh = Math.floor(total / 3600);
  const mm = Math.floor((total % 3600) / 60);
  const ss = total % 60;
  return `${hh}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
}

/** Returns bytes as megabytes with one decimal: "12,3 MB" ("12.3 MB" in English). */
export function formatMB(bytes) {
  const mb = (Number(bytes) || 0) / 1e6;
  return t('recording.mb', { n: mb.toLocaleString(t('recording.locale'), { minimumFractionDigits: 1, maximumFractionDigits: 1 }) });
}

// Returns the label of one file of a recording: whose, what, how big.
function fileLabel(f) {
  const media = has('recording.media.' + f.media) ? t('recording.media.' + f.media) : f.media;
  const who = f.participant_name || f.participant_id || '';
  return `${who ? who + ' · ' : ''}${media} · ${formatMB(f.size_bytes)}`;
}

// Returns the job's line and bar of recording r, or null without a job.
function jobNode(r) {
  const j = r.job;
  if (!j) return null;
  const pct = j.total_s > 0 ? Math.min(100, Math.floor((100 * j.done_s) / j.total_s)) : 0;
  const state = j.running ? 'running' : j.error ? 'failed' : 'done';
  const text = j.running ? t('recording.job.running', { pct })
    : j.error ? t('recording.job.failed', { error: j.error }) : t('recording.job.done');
  return h('div', { class: 'rec-job', 'data-job': state, 'data-pct': String(j.running ? pct : state === 'done' ? 100 : pct) },
    j.running ? h('progress', { class: 'rec-progress', max: '100', value: String(pct) }) : null,
    h('span', { class: 'rec-job-text', role: j.error ? 'alert' : 'status' }, text));
}

/**
 * Returns the list items of recordings list (the answer of GET
 * …/recordings), each li.rec[data-recording] with its start, duration,
 * size and download links; with manage, the compose and delete buttons
 * (data-rec-action, data-recording) too.
 */
export function recordingItems(list, api, manage) {
  const tz = timeZoneOfPage();
  return (list?.recordings || []).map((r) => {
    const links = r.files.map((f) => h('a', {
      class: 'rec-file', href: api.fileURL(r.id, f.name), download: f.name, 'data-file': f.name, title: f.name,
    }, fileLabel(f)));
    if (r.archive) {
      links.unshift(h('a', {
        class: 'rec-file rec-archive', href: api.fileURL(r.id, r.archive.name), download: r.archive.name, 'data-file': r.archive.name,
      }, t('recording.archive', { size: formatMB(r.archive.size_bytes) })));
    }
    const busy = r.active || !!r.job?.running;
    return h('li', { class: 'rec', 'data-recording': r.id, 'data-active': String(!!r.active), 'data-files': String(r.files.length) },
      h('div', { class: 'rec-head' },
        h('strong', { class: 'rec-start', title: formatTime(r.started_at, tz, true) }, formatTime(r.started_at, tz, true)),
        r.active ? h('span', { class: 'rec-live' }, t('onair.recording')) : null),
      h('div', { class: 'rec-meta' },
        h('span', { class: 'rec-duration' }, formatHMS(r.duration_s)), ' · ',
        h('span', { class: 'rec-size' }, formatMB(r.size_bytes)), ' · ',
        h('span', { class: 'rec-count' }, t('recording.files', { n: r.files.length }))),
      links.length ? h('div', { class: 'rec-files' }, ...links) : null,
      jobNode(r),
      manage ? h('div', { class: 'rec-actions' },
        h('button', { class: 'btn btn-small', type: 'button', 'data-rec-action': 'compose', 'data-recording': r.id, disabled: busy || r.files.length === 0 },
          t(r.archive ? 'recording.compose.again' : 'recording.compose')),
        h('button', { class: 'btn btn-small btn-bad', type: 'button', 'data-rec-action': 'delete', 'data-recording': r.id, disabled: busy },
          t('recording.delete'))) : null);
  });
}

// Shows err's text in node (role alert), or clears it.
function say(node, err) {
  node.hidden = !err;
  node.textContent = err ? errorText(err) : '';
  if (err) node.dataset.code = err.code || '';
  else delete node.dataset.code;
}

/**
 * RecordingList keeps the recordings list of a page up to date: fetched
 * by refresh(), every ACTIVE_INTERVAL while one runs, and after
 * conference_state says recording started or stopped (update). With
 * manage (the technician) it also starts and stops the recording,
 * composes and deletes; without, it only lists (the secretariat), and
 * lists again every READ_INTERVAL.
 *
 * nodes: {list, empty, message, start?, stop?, elapsed?, panel?}
 * A server that does not record (recording_unavailable) hides panel.
 */
export class RecordingList {
  constructor({ api, nodes, manage, notices }) {
    this.api = api;
    this.ui = nodes;
    this.manage = !!manage;
    this.notices = notices;
    this.data = null; // the last list
    this.fetchedAt = 0; // Date.now() when it came
    this.jobs = new Map(); // recording id -> polling timer of its archive job
    this.timer = 0;
    this.seq = 0;
    this.busy = false;
    this.recording = null; // conference_state.recording as last seen
    if (this.manage) {
      nodes.start.addEventListener('click', () => this.start());
      nodes.stop.addEventListener('click', () => this.stop());
      nodes.list.addEventListener('click', (ev) => {
        const b = ev.target.closest('button[data-rec-action]');
        if (!b || b.disabled) return;
        if (b.dataset.recAction === 'compose') this.compose(b.dataset.recording);
        else if (b.dataset.recAction === 'delete') this.remove(b.dataset.recording);
      });
      setInterval(() => this.tick(), 1000);
    } else {
      // An archive composed meanwhile is no conference_state: list again now and then.
      setInterval(() => this.refresh(), READ_INTERVAL);
    }
  }

  /** Takes conference_state cs: lists again when the recording started or stopped. */
  update(cs) {
    const rec = !!cs?.recording;
    if (rec !== this.recording) {
      this.recording = rec;
      this.refresh();
    }
  }

  /** Fetches the list now and shows it; never rejects. */
  async refresh() {
    const seq = ++this.seq;
    clearTimeout(this.timer);
    try {
      const data = await this.api.list();
      if (seq !== this.seq) return;
      this.data = data;
      this.fetchedAt = Date.now();
      debugInfo().recordings = data;
      if (this.ui.panel) this.ui.panel.hidden = false;
      this.render();
      for (const r of data.recordings || []) if (r.job?.running) this.pollJob(r.id);
    } catch (err) {
      if (seq !== this.seq) return;
      if (err.code === 'recording_unavailable' && this.ui.panel) {
        this.ui.panel.hidden = true;
        return;
      }
      console.warn('hoinghi: recordings', err);
      say(this.ui.message, err);
    }
    if (this.data?.active) this.timer = setTimeout(() => this.refresh(), ACTIVE_INTERVAL);
  }

  /** Shows the list again (after a language switch). */
  render() {
    const data = this.data;
    if (!data) return;
    const active = data.active || null;
    this.ui.list.replaceChildren(...recordingItems(data, this.api, this.manage));
    this.ui.empty.hidden = (data.recordings || []).length > 0;
    if (this.ui.panel) this.ui.panel.dataset.active = String(!!active);
    if (this.manage) {
      this.ui.start.hidden = !!active;
      this.ui.stop.hidden = !active;
      this.ui.start.disabled = this.busy;
      this.ui.stop.disabled = this.busy;
      this.tick();
    }
  }

  // Counts the running recording's time: the server's duration when
  // listed, and this page's clock since (whatever the offset between
  // the two clocks).
  tick() {
    const active = this.data?.active;
    const node = this.ui.elapsed;
    if (!node) return;
    node.hidden = !active;
    if (!active) return;
    const seconds = (Number(active.duration_s) || 0) + (Date.now() - this.fetchedAt) / 1000;
    node.textContent = t('recording.elapsed', { time: formatHMS(seconds) });
  }

  async act(what, fn) {
    if (this.busy) return;
    this.busy = true;
    this.render();
    say(this.ui.message, null);
    try {
      await fn();
    } catch (err) {
      console.warn('hoinghi: recording ' + what, err);
      say(this.ui.message, err);
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }

  /** Starts recording. */
  start() {
    return this.act('start', () => this.api.start());
  }

  /** Stops the running recording, once the technician confirms. */
  stop() {
    const active = this.data?.active;
    if (!active || !window.confirm(t('recording.stop.confirm'))) return Promise.resolve();
    return this.act('stop', () => this.api.stop(active.id));
  }

  /** Deletes recording id, once the technician confirms. */
  remove(id) {
    const r = this.data?.recordings?.find((x) => x.id === id);
    const when = r ? formatTime(r.started_at, timeZoneOfPage(), true) : id;
    if (!window.confirm(t('recording.delete.confirm', { time: when }))) return Promise.resolve();
    return this.act('delete', async () => {
      await this.api.remove(id);
      notify(this.notices, t('recording.deleted', { time: when }), 5);
    });
  }

  /** Composes the archive of recording id and follows its job. */
  compose(id) {
    return this.act('compose', async () => {
      const r = await this.api.compose(id);
      this.patch(r);
      this.pollJob(id);
    });
  }

  // Replaces one recording of the list by r, and shows the list.
  patch(r) {
    const list = this.data?.recordings;
    if (!r || !list) return;
    const i = list.findIndex((x) => x.id === r.id);
    if (i >= 0) list[i] = r;
    this.render();
  }

  // Fetches recording id every JOB_INTERVAL while its archive job runs.
  pollJob(id) {
    if (this.jobs.has(id)) return;
    const poll = async () => {
      let r = null;
      try {
        r = await this.api.get(id);
      } catch (err) {
        if (err.code === 'recording_not_found') {
          this.jobs.delete(id);
          return;
        }
        console.warn('hoinghi: archive job', err);
      }
      if (r) this.patch(r);
      if (r && !r.job?.running) {
        this.jobs.delete(id);
        if (r.job?.error) say(this.ui.message, { code: 'compose_failed', body: {} });
        this.refresh();
        return;
      }
      this.jobs.set(id, setTimeout(poll, JOB_INTERVAL));
    };
    this.jobs.set(id, setTimeout(poll, JOB_INTERVAL));
  }
}

/**
 * LivePanel runs the livestream from the console: the target (RTMP with
 * its server address and a stream key typed like a password, or HLS
 * served by this server), start and stop, and its state: running since,
 * bitrate, delay, the error that ended it, and HLS's playlist to copy.
 *
 * nodes: {panel, rtmp, hls, rtmpFields, url, key, start, stop, state,
 * playlist, playlistLink, copy, message}
 */
export class LivePanel {
  constructor({ api, nodes, notices }) {
    this.api = api;
    this.ui = nodes;
    this.notices = notices;
    this.state = null;
    this.busy = false;
    this.timer = 0;
    this.seq = 0;
    this.running = null; // conference_state.livestream as last seen
    for (const r of [nodes.rtmp, nodes.hls]) r.addEventListener('change', () => this.render());
    nodes.start.addEventListener('click', () => this.start());
    nodes.stop.addEventListener('click', () => this.stop());
    nodes.copy.addEventListener('click', () => this.copy());
  }

  /** Takes conference_state cs: fetches the state when the livestream started or stopped. */
  update(cs) {
    const on = !!cs?.livestream;
    if (on !== this.running) {
      this.running = on;
      this.refresh();
    }
  }

  /** Fetches the livestream's state now and shows it; never rejects. */
  async refresh() {
    const seq = ++this.seq;
    clearTimeout(this.timer);
    try {
      const st = await this.api.live();
      if (seq !== this.seq) return;
      this.state = st;
      debugInfo().livestream = st;
      this.ui.panel.hidden = false;
      this.render();
    } catch (err) {
      if (seq !== this.seq) return;
      if (err.code === 'recording_unavailable') {
        this.ui.panel.hidden = true;
        return;
      }
      console.warn('hoinghi: livestream', err);
      say(this.ui.message, err);
    }
    if (this.state?.running) this.timer = setTimeout(() => this.refresh(), LIVE_INTERVAL);
  }

  // Returns the target chosen: rtmp or hls.
  target() {
    return this.ui.hls.checked ? 'hls' : 'rtmp';
  }

  /** Shows the state and the controls (after a language switch too). */
  render() {
    const st = this.state || { running: false };
    const running = !!st.running;
    this.ui.panel.dataset.running = String(running);
    this.ui.panel.dataset.target = running ? st.target || '' : this.target();
    this.ui.rtmpFields.hidden = running || this.target() !== 'rtmp';
    for (const n of [this.ui.rtmp, this.ui.hls]) n.disabled = running || this.busy;
    this.ui.start.hidden = running;
    this.ui.stop.hidden = !running;
    this.ui.start.disabled = this.busy;
    this.ui.stop.disabled = this.busy;
    let text;
    if (running) {
      text = t('live.running', {
        target: (st.target || '').toUpperCase(),
        time: formatTime(st.started_at, timeZoneOfPage()),
        kbps: Math.round(st.bitrate_kbps || 0),
        delay: Math.round(st.delay_s || 0),
      });
      if (st.target === 'rtmp' && st.url) text += ' · ' + st.url;
    } else {
      text = st.error ? t('live.ended', { error: st.error }) : t('live.off');
    }
    this.ui.state.textContent = text;
    this.ui.state.dataset.kbps = String(running ? st.bitrate_kbps || 0 : 0);
    this.ui.state.dataset.error = st.error ? 'true' : 'false';
    const hls = running && st.target === 'hls' && st.url;
    this.ui.playlist.hidden = !hls;
    if (hls) {
      const url = this.api.playlistURL(st.url);
      this.ui.playlistLink.href = url;
      this.ui.playlistLink.textContent = url;
    }
  }

  async act(what, fn) {
    if (this.busy) return;
    this.busy = true;
    this.render();
    say(this.ui.message, null);
    try {
      await fn();
    } catch (err) {
      console.warn('hoinghi: livestream ' + what, err);
      say(this.ui.message, err);
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }

  /** Starts the livestream to the target chosen. */
  start() {
    const target = this.target();
    const req = { target };
    if (target === 'rtmp') {
      const base = this.ui.url.value.trim();
      const key = this.ui.key.value.trim();
      if (!/^rtmps?:\/\/./i.test(base)) {
        say(this.ui.message, { code: 'bad_target', body: {} });
        return Promise.resolve();
      }
      req.url = key ? `${base.replace(/\/+$/, '')}/${key}` : base;
    }
    return this.act('start', () => this.api.startLive(req));
  }

  /** Stops the livestream, once the technician confirms. */
  stop() {
    if (!window.confirm(t('live.stop.confirm'))) return Promise.resolve();
    return this.act('stop', () => this.api.stopLive());
  }

  // Copies the HLS playlist's address, or shows it to copy by hand.
  async copy() {
    const url = this.ui.playlistLink.href;
    try {
      await navigator.clipboard.writeText(url);
      notify(this.notices, t('live.copied'), 5);
    } catch {
      window.prompt(t('live.playlist'), url);
    }
  }
}
