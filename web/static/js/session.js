// Session: the join token in the page address, and what the server says it admits.

/** Returns the join token from the page address (?t=...), or "" when there is none. */
export function readToken() {
  return new URLSearchParams(window.location.search).get('t') || '';
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
    res = await fetch('/api/session?t=' + encodeURIComponent(token), {
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
  if (res.status === 401 || res.status === 403) {
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

/** Returns the address of the signaling WebSocket for token (wss when the page is https). */
export function signalingURL(token) {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/ws?t=${encodeURIComponent(token)}`;
}
