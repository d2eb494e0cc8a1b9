// Small DOM helpers shared by the pages: status line, notices, refusal panel.

import { has, pick, t } from './i18n.js';
import { fetchSession } from './session.js';

/** Returns the element with id, or throws: a missing id is a bug in the page. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`hoinghi: page has no #${id}`);
  return node;
}

/**
 * Creates an element. props sets attributes ("class", "data-*", ...) and
 * children are nodes or strings (always set as text, never as HTML).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Returns the text of a connection state (see State in call.js, and "waiting"). */
export function stateText(state) {
  return has('status.' + state) ? t('status.' + state) : state;
}

/**
 * Returns window.hoinghi, creating it: {state, pcs: {publish, subscribe},
 * participantId, roster, floor, slots, timing, rollCall, conference,
 * linkQuality, muted, report}. Browser tests read it (and call getStats on
 * the pcs); floor is the last floor_state, slots maps the speaker slots a
 * point receives (speaker-video, speaker-audio-0, ...) to the ids of their
 * tracks here, timing holds performance.now() marks such as
 * firstHallFrame, rollCall, conference and linkQuality are the last
 * roll_call_state, conference_state and link_quality, muted the last muted
 * message's value, and report the last attendance report a page fetched.
 * The point page adds checkIn (the last check-in it sent) and
 * cameraRestarts (how often it reopened its camera for the hall).
 */
export function debugInfo() {
  if (!window.hoinghi) {
    window.hoinghi = {
      state: 'idle',
      pcs: { publish: null, subscribe: null },
      participantId: null,
      roster: [],
      floor: null,
      slots: {},
      timing: {},
      rollCall: null,
      conference: null,
      linkQuality: null,
      muted: false,
      report: null,
    };
  }
  return window.hoinghi;
}

/**
 * Shows in the page's header, from conference_state cs, that the
 * conference is being recorded (a red "● Đang ghi", its start in the
 * title) and broadcast live; both hidden otherwise. The mark is made in
 * the header's side (.bar-side) the first time, so that every page that
 * shows the conference's stage has it without markup of its own.
 */
export function showOnAir(cs, clock) {
  let mark = document.getElementById('on-air');
  if (!mark) {
    const side = document.querySelector('.bar .bar-side');
    if (!side) return;
    mark = h('p', { id: 'on-air', class: 'on-air', role: 'status', hidden: true },
      h('span', { class: 'on-air-rec', 'data-on': 'false', hidden: true }),
      h('span', { class: 'on-air-live', 'data-on': 'false', hidden: true }));
    side.prepend(mark);
  }
  const [rec, live] = mark.children;
  const recording = !!cs?.recording;
  const livestream = !!cs?.livestream;
  rec.hidden = !recording;
  rec.dataset.on = String(recording);
  rec.textContent = recording ? t('onair.recording') : '';
  rec.title = recording && cs.recording_since && clock ? t('onair.recording.since', { time: clock(cs.recording_since) }) : '';
  live.hidden = !livestream;
  live.dataset.on = String(livestream);
  live.textContent = livestream ? t('onair.live') : '';
  mark.hidden = !recording && !livestream;
  mark.dataset.recording = String(recording);
  mark.dataset.livestream = String(livestream);
}

/**
 * Shows state in the status element (text and data-state). window.hoinghi.state
 * follows the connection (Call) itself; shown, when given, is what the page
 * shows instead (e.g. "waiting" while connected before the hall is there).
 */
export function showStatus(node, state, shown = state) {
  node.dataset.state = shown;
  node.textContent = stateText(shown);
  debugInfo().state = state;
}

/** Returns the sentence telling whom to call, with the phone number when known. */
export function callText(phone) {
  return phone ? t('call.technician') + phone : t('call.technician.nophone');
}

/** Returns a "tel:" link for phone, or a text node when the phone is unknown. */
function callNode(phone) {
  if (!phone) return document.createTextNode(callText(''));
  return h('span', {}, t('call.technician'),
    h('a', { href: 'tel:' + phone.replace(/[^0-9+]/g, ''), class: 'phone' }, phone));
}

/**
 * Fills and shows the refusal panel: a title, a plain message and whom to call.
 * reason goes to data-reason (a server error code, "insecure", "media", ...);
 * link ({href, text}), when given, is shown as a button.
 * Hides every element marked data-hide-on-refusal. Each of title, message
 * and link.text may be a function returning the text, so that the panel is
 * redrawn in the other language when the user switches.
 */
export function showRefusal(node, refusal) {
  lastRefusal = { node, refusal };
  const text = (v) => (typeof v === 'function' ? v() : v);
  const { phone, reason } = refusal;
  const title = text(refusal.title);
  const message = text(refusal.message);
  const link = refusal.link && { href: refusal.link.href, text: text(refusal.link.text) };
  const parts = [h('h2', {}, title), h('p', { class: 'refusal-message' }, message)];
  if (link) parts.push(h('p', {}, h('a', { href: link.href, class: 'btn btn-primary' }, link.text)));
  // Without a phone number, say whom to call unless the message already does.
  if (phone || !/kỹ thuật viên|technician/i.test(message)) {
    parts.push(h('p', { class: 'refusal-call' }, callNode(phone)));
  }
  node.replaceChildren(...parts);
  node.dataset.reason = reason || '';
  node.hidden = false;
  for (const other of document.querySelectorAll('[data-hide-on-refusal]')) other.hidden = true;
}

let lastRefusal = null;

// Redraws the refusal panel in the language just chosen.
window.addEventListener('hoinghi:lang', () => {
  if (lastRefusal && !lastRefusal.node.hidden) showRefusal(lastRefusal.node, lastRefusal.refusal);
});

/** Shows a short non-fatal notice in container; it goes away after a while. */
export function notify(container, text, seconds = 10) {
  for (const shown of container.children) {
    if (shown.textContent === text) return; // already on screen
  }
  const item = h('div', { class: 'notice', role: 'status' }, text);
  container.append(item);
  while (container.children.length > 3) container.firstElementChild.remove();
  setTimeout(() => item.remove(), seconds * 1000);
}

/**
 * Shows in note what the server says of this page's downlink (downlink):
 * nothing while it is good, why the pictures are blurred (reduced) or still
 * (audio_only) otherwise. It clears by itself when the link recovers.
 */
export function showDownlink(note, state) {
  const key = 'downlink.' + state;
  note.hidden = !(state === 'reduced' || state === 'audio_only') || !has(key);
  note.dataset.state = state || '';
  note.textContent = note.hidden ? '' : t(key);
}

/** Returns the title shown for a refusal from /api/session. */
export function refusalTitle(refusal) {
  const key = 'refusal.' + refusal.error;
  return has(key) && refusal.error !== 'default' ? t(key) : t('refusal.default');
}

/** Shows the refusal panel for a refusal from /api/session. */
export function showSessionRefusal(node, refusal) {
  showRefusal(node, {
    title: () => refusalTitle(refusal),
    message: () => pick(refusal.message || t('refusal.default.message'), refusal.message_en),
    phone: refusal.technician_phone,
    reason: refusal.error,
  });
}

/** Shows the refusal panel for a browser that refuses the camera (no HTTPS). */
export function showInsecure(node, phone) {
  const plainHTTP = window.location.protocol !== 'https:';
  showRefusal(node, {
    title: () => t('refusal.insecure.title'),
    message: () => t(plainHTTP ? 'refusal.insecure.http' : 'refusal.insecure.old'),
    phone,
    reason: 'insecure',
  });
}

/** Shows the refusal panel when the server cannot be reached at all. */
export function showUnreachable(node) {
  showRefusal(node, {
    title: () => t('refusal.unreachable.title'),
    message: () => t('refusal.unreachable'),
    phone: '',
    reason: 'unreachable',
  });
}

/**
 * Asks the server who this page's link or login admits (see fetchSession).
 * Resolves to the session, or to null after saying why in refusalNode and
 * statusNode: the link was refused, or the server could not be reached.
 */
export async function openSession(token, refusalNode, statusNode) {
  const res = await fetchSession(token);
  if (res.ok) return res.session;
  if (res.refusal) {
    showSessionRefusal(refusalNode, res.refusal);
    showStatus(statusNode, 'refused');
  } else {
    showUnreachable(refusalNode);
    showStatus(statusNode, 'idle', 'unreachable');
  }
  return null;
}
