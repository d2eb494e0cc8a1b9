// The secretariat page (/secretariat/?t=TOKEN): who is connected, live. It
// neither sends nor receives media. Roll call and reports come with the
// attendance issue.

import { readToken, fetchSession } from './session.js';
import { Call, State, closingText } from './call.js';
import { initLang, t } from './i18n.js';
import { PointBook, matches } from './points.js';
import {
  byId, h, notify, showRefusal, showSessionRefusal, showStatus, showUnreachable,
} from './ui.js';

const ui = {
  body: document.body,
  title: byId('conf-title'),
  nav: byId('nav'),
  lang: byId('lang'),
  status: byId('status'),
  refusal: byId('refusal'),
  stage: byId('stage'),
  total: byId('total'),
  search: byId('search'),
  listBody: byId('list-body'),
  empty: byId('empty'),
  notices: byId('notices'),
};

const token = readToken();
const book = new PointBook();
let session = null;
let call = null;

async function main() {
  initLang(ui.lang);
  window.addEventListener('hoinghi:lang', redraw);
  const res = await fetchSession(token);
  if (!res.ok) {
    if (res.refusal) {
      showSessionRefusal(ui.refusal, res.refusal);
      showStatus(ui.status, State.refused);
    } else {
      showUnreachable(ui.refusal);
      showStatus(ui.status, State.idle, 'unreachable');
    }
    return;
  }
  session = res.session;
  if (session.role === 'point') {
    window.location.replace('/point/' + window.location.search);
    return;
  }
  ui.title.textContent = session.conference_title || t('app.title');
  document.title = `${t('role.secretariat')} – ${session.conference_title || t('app.title')}`;
  ui.body.dataset.step = 'live';
  ui.stage.hidden = false;
  ui.nav.hidden = false;
  ui.search.addEventListener('input', render);
  render();

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

function render() {
  const query = ui.search.value;
  const points = book.list().filter((p) => matches(p.name, query));
  ui.total.textContent = t('secretariat.total', { n: book.connectedCount() });
  ui.empty.hidden = points.length > 0;
  ui.listBody.replaceChildren(...points.map((p) =>
    h('tr', { 'data-participant': p.id, 'data-state': p.state },
      h('td', { class: 'list-name' }, h('span', { class: 'dot', 'data-quality': p.state === 'connected' ? 'good' : 'poor' }), ' ', p.name),
      h('td', {}, t(p.state === 'connected' ? 'tile.live' : p.state === 'offline' ? 'tile.offline' : 'tile.invited')),
      h('td', {}, p.state === 'connected' && p.since ? p.since.toLocaleTimeString('vi-VN') : ''))));
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
