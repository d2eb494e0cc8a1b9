// Administration page of the hall technician: conferences, the point
// registry per province, invitations and the points' links. Entered with a
// technician link (?t=...) or a technician's login.

import { initLang, lang, pick, t } from './i18n.js';
import { csrfHeaders, newInstance, PROTOCOL_VERSION, readToken } from './session.js';
import { byId, h, showStatus, showSessionRefusal } from './ui.js';
import { DEFAULT_TIME_ZONE, fromZoneInput, toZoneInput, zoneLabel } from './attendance.js';

const token = readToken();
const state = {
  conferences: [],
  current: null, // the conference shown, with its status
  registry: [],
  ownConference: '', // the conference of the token; '' with a login
};

/** Error of an API call, with the server's bilingual message. */
class ApiError extends Error {
  constructor(status, body) {
    super(body?.message_en || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
  text() {
    return pick(this.body.message, this.body.message_en) || this.message;
  }
}

/** Calls the API; resolves to the JSON answer (or null), rejects with ApiError. */
async function api(method, path, body, contentType) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  else if (method !== 'GET') Object.assign(headers, csrfHeaders());
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = contentType;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
  let json = null;
  try {
    json = await res.json();
  } catch {
    json = null;
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/** Returns url with the page's token, for links opened outside fetch. */
function withToken(url) {
  if (!token) return url;
  return url + (url.includes('?') ? '&' : '?') + 't=' + encodeURIComponent(token);
}

function say(node, text, kind = 'ok') {
  node.textContent = text;
  node.dataset.kind = kind;
}

function fail(node, err) {
  say(node, err instanceof ApiError ? err.text() : String(err), 'error');
}

function statusText(s) {
  return t('admin.status.' + s);
}

// Returns a time in the conference's zone tz, with the zone's offset.
function formatTime(iso, tz) {
  if (!iso) return '';
  const zone = tz || DEFAULT_TIME_ZONE;
  const text = new Date(iso).toLocaleString(lang() === 'en' ? 'en-GB' : 'vi-VN', { dateStyle: 'short', timeStyle: 'short', timeZone: zone });
  return `${text} (${zoneLabel(zone, new Date(iso))})`;
}

// Conferences

async function loadConferences() {
  state.conferences = await api('GET', '/api/conferences');
  const body = byId('conf-list');
  body.replaceChildren();
  for (const c of state.conferences) {
    const row = h('tr', { 'aria-selected': state.current?.id === c.id ? 'true' : 'false' },
      h('td', {}, c.id),
      h('td', { class: 'list-name' }, c.title),
      h('td', { class: 'admin-status', 'data-status': c.status }, statusText(c.status)),
      h('td', {}, formatTime(c.scheduled_start, c.time_zone)),
      h('td', { class: 'num' }, c.points),
      h('td', {}, h('button', { class: 'btn btn-small', type: 'button', 'data-open': c.id }, t('admin.open'))));
    body.append(row);
  }
}

async function openConference(id) {
  const c = state.conferences.find((x) => x.id === id);
  if (!c) return;
  state.current = c;
  byId('current').hidden = false;
  byId('current-title').textContent = c.title;
  const st = byId('current-status');
  st.dataset.status = c.status;
  st.textContent = '(' + statusText(c.status) + ')';
  const form = byId('settings-form');
  form.title.value = c.title;
  form.organizer.value = c.organizer || '';
  form.time_zone.value = c.time_zone || '';
  form.scheduled_start.value = c.scheduled_start ? toZoneInput(c.scheduled_start, c.time_zone || DEFAULT_TIME_ZONE) : '';
  form.default_speaking_time.value = c.default_speaking_time || '';
  form.grace_period.value = c.grace_period || '';
  form.technician_phone.value = c.technician_phone || '';
  byId('sheet').href = withToken(`/api/conferences/${id}/links/sheet`);
  // The console of this conference: by the login cookie, or by the page's
  // technician link when it is this conference's (another needs its own).
  const consoleLink = byId('console-link');
  consoleLink.hidden = !!token && id !== state.ownConference;
  consoleLink.href = token ? withToken('/console/') : '/console/?conference=' + encodeURIComponent(id);
  say(byId('current-message'), '');
  for (const row of byId('conf-list').children) {
    row.setAttribute('aria-selected', row.querySelector(`[data-open="${id}"]`) ? 'true' : 'false');
  }
  if (token && id !== state.ownConference) {
    say(byId('current-message'), t('admin.other.conference'), 'error');
  }
  await loadLinks();
}


async function refreshCurrent() {
  await loadConferences();
  if (state.current) await openConference(state.current.id);
}

async function saveSettings(ev) {
  ev.preventDefault();
  const c = state.current;
  const form = ev.target;
  const msg = byId('current-message');
  const body = {
    title: form.title.value.trim(),
    organizer: form.organizer.value.trim() || undefined,
    time_zone: form.time_zone.value.trim() || undefined,
    technician_phone: form.technician_phone.value.trim() || undefined,
    default_speaking_time: Number(form.default_speaking_time.value) || undefined,
    grace_period: Number(form.grace_period.value) || undefined,
    // The form's times are the conference's wall clock, whatever the browser's zone.
    scheduled_start: form.scheduled_start.value ? fromZoneInput(form.scheduled_start.value, form.time_zone.value.trim() || DEFAULT_TIME_ZONE) : undefined,
    auto_take_back: c.auto_take_back || undefined,
  };
  try {
    await api('PUT', `/api/conferences/${c.id}`, body);
    await refreshCurrent();
    say(msg, t('admin.saved'));
  } catch (err) {
    fail(msg, err);
  }
}

async function setStatus(status) {
  const c = state.current;
  const msg = byId('current-message');
  const body = { status };
  const when = byId('settings-form').scheduled_start.value;
  if (status === 'scheduled' && when) {
    body.scheduled_start = fromZoneInput(when, byId('settings-form').time_zone.value.trim() || state.current?.time_zone || DEFAULT_TIME_ZONE);
  }
  if (status === 'archived' && !window.confirm(t('admin.confirm.archive'))) return;
  try {
    await api('POST', `/api/conferences/${c.id}/status`, body);
    await refreshCurrent();
    say(msg, t('admin.status.changed', { status: statusText(status) }));
  } catch (err) {
    fail(msg, err);
  }
}

/**
 * Starts or ends the conference: the technician's conference action over
 * signaling, on a short-lived connection of its own.
 */
function conferenceAction(action) {
  const c = state.current;
  const msg = byId('current-message');
  if (action === 'end' && !window.confirm(t('admin.confirm.end'))) return;
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const cred = token ? 't=' + encodeURIComponent(token) : 'conference=' + encodeURIComponent(c.id);
  // A connection of its own, never taken for the technician's console.
  const ws = new WebSocket(`${scheme}//${window.location.host}/ws?${cred}&v=${PROTOCOL_VERSION}&instance=${newInstance()}`);
  const timer = setTimeout(() => {
    ws.close();
    say(msg, t('admin.action.timeout'), 'error');
  }, 10000);
  ws.onmessage = async (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === 'welcome') {
      ws.send(JSON.stringify({ type: 'conference', action }));
    } else if (m.type === 'conference_state' || (m.type === 'error' && m.request === 'conference')) {
      clearTimeout(timer);
      ws.close();
      if (m.type === 'error') {
        say(msg, m.message, 'error');
        return;
      }
      setTimeout(refreshCurrent, 300); // the state reaches the store just behind
      say(msg, t(action === 'start' ? 'admin.started' : 'admin.ended'));
    } else if (m.type === 'closing') {
      clearTimeout(timer);
      say(msg, m.message, 'error');
    }
  };
  ws.onerror = () => {
    clearTimeout(timer);
    say(msg, t('admin.action.failed'), 'error');
  };
}

async function createConference(ev) {
  ev.preventDefault();
  const form = ev.target;
  const msg = byId('create-message');
  try {
    const c = await api('POST', '/api/conferences', { id: form.id.value.trim(), title: form.title.value.trim() });
    form.reset();
    await loadConferences();
    msg.replaceChildren(t('admin.created', { title: c.title }) + ' ');
    if (token) {
      // The new conference has its own technician link.
      const u = new URL(c.technician_url);
      msg.append(h('a', { href: '/admin/' + u.search }, t('admin.created.open')));
    } else {
      await openConference(c.id);
    }
    msg.dataset.kind = 'ok';
  } catch (err) {
    fail(msg, err);
  }
}

// Links

async function loadLinks() {
  const c = state.current;
  const body = byId('links-body');
  body.replaceChildren();
  let links = [];
  try {
    links = (await api('GET', `/api/conferences/${c.id}/links`)).filter((l) => l.role === 'point');
  } catch (err) {
    fail(byId('current-message'), err);
  }
  byId('links-empty').hidden = links.length > 0;
  for (const l of links) {
    const input = h('input', { class: 'input admin-link', readonly: true, value: l.url });
    const copy = h('button', { class: 'btn btn-small', type: 'button' }, t('admin.copy'));
    copy.addEventListener('click', () => copyLink(input, copy));
    const qr = h('a', { class: 'btn btn-small', target: '_blank', rel: 'noopener noreferrer',
      href: withToken(`/api/conferences/${c.id}/links/${l.point_id}/qr.png`) }, 'QR');
    const reissue = h('button', { class: 'btn btn-small btn-warn', type: 'button' }, t('admin.reissue'));
    reissue.addEventListener('click', () => reissueLink(l));
    body.append(h('tr', { 'data-point': l.point_id },
      h('td', { class: 'list-name' }, l.name),
      h('td', {}, input),
      h('td', {}, formatTime(l.expires_at, state.current?.time_zone)),
      h('td', {}, h('div', { class: 'admin-actions' }, copy, qr, reissue))));
  }
}

async function copyLink(input, button) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand('copy');
  }
  button.textContent = t('admin.copied');
  setTimeout(() => { button.textContent = t('admin.copy'); }, 1500);
}

async function reissueLink(link) {
  const msg = byId('current-message');
  if (!window.confirm(t('admin.confirm.reissue', { name: link.name }))) return;
  try {
    const r = await api('POST', `/api/conferences/${state.current.id}/links/${link.point_id}/reissue`);
    say(msg, t('admin.reissued', { name: link.name, closed: r.closed }));
    await loadLinks();
  } catch (err) {
    fail(msg, err);
  }
}

// Registry

function province() {
  return byId('province').value.trim();
}

async function loadProvinces() {
  const list = await api('GET', '/api/registry');
  byId('provinces').replaceChildren(...list.map((p) => h('option', { value: p })));
  if (list.length && !list.includes(province())) byId('province').value = list[0];
}

async function loadRegistry() {
  const p = province();
  const msg = byId('registry-message');
  byId('export-csv').href = withToken(`/api/registry/${p}/export?format=csv`);
  byId('export-xlsx').href = withToken(`/api/registry/${p}/export?format=xlsx`);
  try {
    state.registry = await api('GET', `/api/registry/${encodeURIComponent(p)}/points`);
  } catch (err) {
    state.registry = [];
    fail(msg, err);
  }
  drawRegistry();
}

function drawRegistry() {
  const body = byId('registry-body');
  body.replaceChildren();
  for (const p of state.registry) {
    const del = h('button', { class: 'btn btn-small', type: 'button', title: t('admin.registry.delete') }, '✕');
    del.addEventListener('click', () => deleteRegistryPoint(p));
    body.append(h('tr', {},
      h('td', {}, h('input', { type: 'checkbox', 'data-point': p.id, 'aria-label': p.name })),
      h('td', { class: 'list-name' }, p.name),
      h('td', {}, p.district || ''),
      h('td', {}, p.representative || ''),
      h('td', {}, p.phone || ''),
      h('td', { class: 'num' }, p.expected_delegates || ''),
      h('td', {}, del)));
  }
  byId('registry-empty').hidden = state.registry.length > 0;
  byId('select-all').checked = false;
}

async function importFile() {
  const file = byId('import-file').files[0];
  const msg = byId('registry-message');
  if (!file) {
    say(msg, t('admin.registry.nofile'), 'error');
    return;
  }
  const xlsx = /\.xlsx$/i.test(file.name);
  const type = xlsx ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv';
  const mode = byId('import-mode').value;
  try {
    const r = await api('POST', `/api/registry/${encodeURIComponent(province())}/import?mode=${mode}`, file, type);
    say(msg, t('admin.registry.imported', { created: r.created, updated: r.updated, removed: r.removed }));
    await loadProvinces();
    await loadRegistry();
  } catch (err) {
    fail(msg, err);
  }
}

async function deleteRegistryPoint(p) {
  const msg = byId('registry-message');
  if (!window.confirm(t('admin.confirm.delete', { name: p.name }))) return;
  try {
    await api('DELETE', `/api/registry/${encodeURIComponent(province())}/points/${p.id}`);
    await loadRegistry();
  } catch (err) {
    fail(msg, err);
  }
}

async function invite() {
  const msg = byId('registry-message');
  if (!state.current) {
    say(msg, t('admin.registry.noconference'), 'error');
    return;
  }
  const points = [...byId('registry-body').querySelectorAll('input[type=checkbox]:checked')].map((n) => n.dataset.point);
  if (!points.length) {
    say(msg, t('admin.registry.nothing'), 'error');
    return;
  }
  try {
    const r = await api('POST', `/api/conferences/${state.current.id}/invite`, { province: province(), points });
    say(msg, t('admin.registry.invited', { added: r.added, total: r.points.length, title: state.current.title }));
    await refreshCurrent();
  } catch (err) {
    fail(msg, err);
  }
}

// Start

async function start() {
  initLang(byId('lang'));
  const status = byId('status');
  try {
    if (token) {
      const s = await api('GET', '/api/session');
      if (s.role !== 'technician') throw new ApiError(403, { message: t('admin.notechnician'), message_en: t('admin.notechnician') });
      state.ownConference = s.conference_id;
    } else {
      await api('GET', '/api/me');
    }
    await loadConferences();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && !token) {
      window.location.assign('/login/?next=' + encodeURIComponent(window.location.pathname + window.location.search));
      return;
    }
    showStatus(status, 'refused');
    showSessionRefusal(byId('refusal'), err instanceof ApiError ? { error: err.body.error || 'forbidden',
      message: err.body.message || '', message_en: err.body.message_en || '', technician_phone: err.body.technician_phone || '' }
      : { error: 'default', message: String(err), message_en: String(err) });
    return;
  }
  showStatus(status, 'connected');
  document.body.dataset.step = 'ready';
  byId('conferences').hidden = false;
  byId('registry').hidden = false;

  byId('conf-list').addEventListener('click', (ev) => {
    const id = ev.target.closest('[data-open]')?.dataset.open;
    if (id) openConference(id);
  });
  byId('create-form').addEventListener('submit', createConference);
  byId('settings-form').addEventListener('submit', saveSettings);
  for (const b of document.querySelectorAll('#current [data-status]')) {
    b.addEventListener('click', () => setStatus(b.dataset.status));
  }
  for (const b of document.querySelectorAll('#current [data-action]')) {
    b.addEventListener('click', () => conferenceAction(b.dataset.action));
  }
  byId('links-reload').addEventListener('click', loadLinks);
  byId('registry-load').addEventListener('click', loadRegistry);
  byId('province').addEventListener('change', loadRegistry);
  byId('import').addEventListener('click', importFile);
  byId('invite').addEventListener('click', invite);
  byId('select-all').addEventListener('change', (ev) => {
    for (const box of byId('registry-body').querySelectorAll('input[type=checkbox]')) box.checked = ev.target.checked;
  });
  window.addEventListener('hoinghi:lang', () => {
    loadConferences();
    drawRegistry();
    if (state.current) openConference(state.current.id);
  });

  const wanted = state.ownConference || new URLSearchParams(window.location.search).get('conference') ||
    state.conferences[0]?.id;
  if (wanted) await openConference(wanted);
  await loadProvinces();
  await loadRegistry();
}

start().catch((err) => {
  console.error(err);
  showStatus(byId('status'), 'refused');
});
