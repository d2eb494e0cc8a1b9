// Small DOM helpers shared by the pages: status line, notices, refusal panel.

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

/** Vietnamese text of each connection state (see State in call.js). */
export const STATE_TEXT = {
  idle: 'Chưa tham gia',
  connecting: 'Đang kết nối...',
  connected: 'Đã kết nối',
  reconnecting: 'Đang kết nối lại...',
  refused: 'Bị từ chối',
  closed: 'Đã ngắt kết nối',
};

/**
 * Returns window.hoinghi, creating it: {state, pcs: {publish, subscribe},
 * participantId, roster}. Browser tests read it (and call getStats on the pcs).
 */
export function debugInfo() {
  if (!window.hoinghi) {
    window.hoinghi = { state: 'idle', pcs: { publish: null, subscribe: null }, participantId: null, roster: [] };
  }
  return window.hoinghi;
}

/** Shows state in the status element (text and data-state) and in window.hoinghi.state. */
export function showStatus(node, state) {
  node.dataset.state = state;
  node.textContent = STATE_TEXT[state] || state;
  debugInfo().state = state;
}

/** Returns the sentence telling whom to call, with the phone number when known. */
export function callText(phone) {
  return phone
    ? `Vui lòng gọi kỹ thuật viên hội trường: ${phone}`
    : 'Vui lòng liên hệ kỹ thuật viên hội trường.';
}

/** Returns a "tel:" link for phone, or a text node when the phone is unknown. */
function callNode(phone) {
  if (!phone) return document.createTextNode(callText(''));
  return h('span', {}, 'Vui lòng gọi kỹ thuật viên hội trường: ',
    h('a', { href: 'tel:' + phone.replace(/[^0-9+]/g, ''), class: 'phone' }, phone));
}

/**
 * Fills and shows the refusal panel: a title, a plain message and whom to call.
 * reason goes to data-reason (a server error code, "insecure", "media", ...);
 * link ({href, text}), when given, is shown as a button.
 * Hides every element marked data-hide-on-refusal.
 */
export function showRefusal(node, { title, message, phone, reason, link }) {
  const parts = [h('h2', {}, title), h('p', { class: 'refusal-message' }, message)];
  if (link) parts.push(h('p', {}, h('a', { href: link.href, class: 'btn btn-primary' }, link.text)));
  // Without a phone number, say whom to call unless the message already does.
  if (phone || !/kỹ thuật viên/i.test(message)) {
    parts.push(h('p', { class: 'refusal-call' }, callNode(phone)));
  }
  node.replaceChildren(...parts);
  node.dataset.reason = reason || '';
  node.hidden = false;
  for (const other of document.querySelectorAll('[data-hide-on-refusal]')) other.hidden = true;
}

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

/** Returns the sentence shown for a refusal from /api/session. */
export function refusalTitle(refusal) {
  switch (refusal.error) {
    case 'token_expired':
      return 'Đường dẫn đã hết hạn';
    case 'token_missing':
      return 'Thiếu đường dẫn tham gia';
    case 'conference_not_found':
      return 'Không tìm thấy hội nghị';
    case 'point_not_found':
      return 'Điểm cầu không có trong danh sách';
    default:
      return 'Không vào được hội nghị';
  }
}

/** Shows the refusal panel for a refusal from /api/session. */
export function showSessionRefusal(node, refusal) {
  showRefusal(node, {
    title: refusalTitle(refusal),
    message: refusal.message,
    phone: refusal.technician_phone,
    reason: refusal.error,
  });
}

/** Shows the refusal panel for a browser that refuses the camera (no HTTPS). */
export function showInsecure(node, phone) {
  const plainHTTP = window.location.protocol !== 'https:';
  showRefusal(node, {
    title: 'Trình duyệt không cho dùng camera và micro',
    message: plainHTTP
      ? 'Trình duyệt từ chối mở camera và micro vì trang này không được mở qua kết nối bảo mật HTTPS. ' +
        'Hãy mở đúng đường dẫn bắt đầu bằng https:// mà hội trường đã gửi.'
      : 'Trình duyệt này không hỗ trợ camera và micro cho trang web. Hãy dùng bản mới của Chrome, Edge, Firefox hoặc Safari.',
    phone,
    reason: 'insecure',
  });
}

/** Shows the refusal panel when the server cannot be reached at all. */
export function showUnreachable(node) {
  showRefusal(node, {
    title: 'Không kết nối được máy chủ',
    message: 'Trang không liên lạc được với máy chủ hội nghị. Hãy kiểm tra mạng rồi tải lại trang.',
    phone: '',
    reason: 'unreachable',
  });
}
