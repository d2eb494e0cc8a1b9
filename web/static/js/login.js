// The staff's login page (/login/): a technician, chair or secretariat logs in
// with a name and password and then opens a conference's page, which the
// session cookie admits without a link. Points never log in.
//
// Query parameters: conference=ID fills in the conference; next=/path (a path
// of this site) is where to go after logging in, e.g. the page that sent the
// user here.

import { initLang, pick, t } from './i18n.js';
import { byId } from './ui.js';

/** The page of each role. */
const PAGES = { technician: '/console/', chair: '/console/', secretariat: '/secretariat/' };

const params = new URLSearchParams(window.location.search);
const form = byId('form');
const nameInput = byId('name');
const passwordInput = byId('password');
const confInput = byId('conference');
const errorLine = byId('error');
const submit = byId('submit');
const logoutButton = byId('logout');
const who = byId('who');

/** The user once logged in (the body of /api/me), else null. */
let me = null;

/** Returns next when it is a path of this site, else "". */
function safeNext(next) {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '';
  return next;
}

function showError(text) {
  errorLine.textContent = text;
  errorLine.hidden = !text;
}

/** Returns the message of a refusal from the server in the page's language. */
function serverMessage(body, fallback) {
  if (body && (body.message || body.message_en)) return pick(body.message, body.message_en);
  return fallback;
}

async function readJSON(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/** Shows the form for logging in, or, once logged in, for choosing a conference. */
function render() {
  const loggedIn = me !== null;
  byId('name-field').hidden = loggedIn;
  byId('password-field').hidden = loggedIn;
  logoutButton.hidden = !loggedIn;
  who.hidden = !loggedIn;
  if (loggedIn) {
    who.textContent = t('login.as', { name: me.name, role: t('role.' + me.role) });
    submit.textContent = t('login.open');
  } else {
    submit.textContent = t('login.submit');
  }
}

/** Opens the page of the logged-in user's role for the conference entered. */
function openConference() {
  const next = safeNext(params.get('next'));
  if (next) {
    window.location.assign(next);
    return;
  }
  const id = confInput.value.trim();
  if (!id) {
    showError(t('login.needconference'));
    confInput.focus();
    return;
  }
  const page = PAGES[me.role] || '/console/';
  window.location.assign(page + '?conference=' + encodeURIComponent(id));
}

/** Fills the conference suggestions when the server lists conferences. */
async function suggestConferences() {
  try {
    const res = await fetch('/api/conferences', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) return;
    const list = await res.json();
    if (!Array.isArray(list)) return;
    const box = byId('conferences');
    box.replaceChildren();
    for (const c of list) {
      const id = c && (c.id || c.conference_id);
      if (!id) continue;
      const option = document.createElement('option');
      option.value = id;
      if (c.title) option.label = c.title;
      box.append(option);
    }
  } catch {
    // Suggestions are a help only; the id can be typed.
  }
}

async function logIn() {
  const name = nameInput.value.trim();
  const password = passwordInput.value;
  if (!name || !password) {
    showError(t('login.failed'));
    return;
  }
  submit.disabled = true;
  submit.textContent = t('login.busy');
  try {
    const res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ name, password }),
      cache: 'no-store',
    });
    const body = await readJSON(res);
    if (!res.ok || !body) {
      showError(serverMessage(body, t('login.error', { error: 'HTTP ' + res.status })));
      passwordInput.select();
      return;
    }
    me = body;
    passwordInput.value = '';
    showError('');
    render();
    suggestConferences();
    if (confInput.value.trim() || safeNext(params.get('next'))) openConference();
  } catch (err) {
    showError(t('login.error', { error: String(err) }));
  } finally {
    submit.disabled = false;
    if (me === null) submit.textContent = t('login.submit');
  }
}

async function logOut() {
  try {
    await fetch('/api/logout', {
      method: 'POST',
      headers: { 'X-CSRF-Token': me ? me.csrf_token : '' },
      cache: 'no-store',
    });
  } catch {
    // The cookie expires by itself; show the form anyway.
  }
  me = null;
  render();
  showError('');
  who.hidden = false;
  who.textContent = t('login.loggedout');
  nameInput.focus();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  showError('');
  if (me === null) {
    logIn();
  } else {
    openConference();
  }
});
logoutButton.addEventListener('click', logOut);
window.addEventListener('hoinghi:lang', render);

initLang(byId('lang'));
confInput.value = params.get('conference') || '';
render();

// Already logged in? Then only the conference is asked for.
fetch('/api/me', { headers: { Accept: 'application/json' }, cache: 'no-store' })
  .then(async (res) => {
    const body = res.ok ? await readJSON(res) : null;
    if (body && body.name) {
      me = body;
      render();
      suggestConferences();
    } else {
      nameInput.focus();
    }
  })
  .catch(() => nameInput.focus())
  // The form answers from now on (for tests and tools that drive it).
  .finally(() => { document.body.dataset.ready = 'true'; });
