// Session: the join token in the page address, and what the server says it admits.

/** Returns the join token from the page address (?t=...), or "" when there is none. */
export function readToken() {
  return new URLSearchParams(window.location.search).get('t') || '';
}

/**
 * Returns the query that admits this page's requests: the join token when
 * the page has one, else the conference it names (?conference=...), which
 * a hall user's login cookie admits.
 */
export function credentialQuery(token) {
  if (token) return 't=' + encodeURIComponent(token);
  const conf = new URLSearchParams(window.location.search).get('conference') || '';
  return 'conference=' + encodeURIComponent(conf);
}

// Hall pages may be entered with a login instead of a link.
const LOGIN_PAGES = ['/console/', '/secretariat/', '/admin/'];

/** Sends a hall page without a link to the login page, which comes back here after. */
function toLogin() {
  const next = window.location.pathname + window.location.search;
  window.location.assign('/login/?next=' + encodeURIComponent(next));
}

/** Returns the headers an unsafe request needs when a login cookie admits it. */
export function csrfHeaders() {
  const m = document.cookie.match(/(?:^|;\s*)hoinghi_csrf=([^;]*)/);
  return m ? { 'X-CSRF-Token': decodeURIComponent(m[1]) } : {};
}

/**
 * Asks the server who the token admits (GET /api/session).
 * Resolves to one of:
 *   {ok: true, session}                 the token is valid; session is the JSON body
 *   {ok: false, refusal}                the server refused the token (401 or 403)
 *   {ok: false, unreachable: true, ...} the server could not be reached or failed
 * It never rejects.
 */
export async function fetchSession(token) {
  let res;
  try {
    res = await fetch('/api/session?' + credentialQuery(token), {
      headers: { Accept: 'application/json' },
      cache: 'no-store',
    });
  } catch (err) {
    return { ok: false, unreachable: true, detail: String(err) };
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.ok && body) {
    return { ok: true, session: body };
  }
  if (res.status === 401 && !token && LOGIN_PAGES.includes(window.location.pathname) &&
      ['login_required', 'token_missing'].includes(body?.error)) {
    toLogin();
  }
  if (res.status === 401 || res.status === 403 || (res.status === 409 && body?.error === 'too_many_connections')) {
    return {
      ok: false,
      refusal: {
        error: body?.error || (res.status === 401 ? 'token_invalid' : 'forbidden'),
        message: body?.message || '',
        message_en: body?.message_en || '',
        technician_phone: body?.technician_phone || '',
      },
    };
  }
  return { ok: false, unreachable: true, detail: `HTTP ${res.status}` };
}

/** The protocol version these pages speak (docs/protocol.md, "Versions"). */
export const PROTOCOL_VERSION = 2;

/** Returns a new random instance name: 16 hex digits. */
export function newInstance() {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * Returns this tab's instance name: kept in sessionStorage, so that a
 * reload or a reconnect of the page is the same hall participant, and
 * another tab a different one.
 */
export function pageInstance() {
  const key = 'hoinghi.instance';
  try {
    let id = window.sessionStorage.getItem(key);
    if (!id) {
      id = newInstance();
      window.sessionStorage.setItem(key, id);
    }
    return id;
  } catch {
    pageInstance.fallback ||= newInstance();
    return pageInstance.fallback;
  }
}

/**
 * Returns the address of the signaling WebSocket for token (wss when the
 * page is https), with the protocol version and this page's instance, or
 * instance when given.
 */
export function signalingURL(token, instance = pageInstance()) {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/ws?${credentialQuery(token)}&v=${PROTOCOL_VERSION}&instance=${instance}`;
}
