// Call: the signaling WebSocket and the two PeerConnections of one participant
// (publish: we offer; subscribe: the server offers), reconnecting by itself.

import { Signaling } from './signaling.js';
import { fetchSession, signalingURL } from './session.js';
import { debugInfo } from './ui.js';
import { has, t } from './i18n.js';
import { floorErrorText, msidTrack } from './floor.js';

/** Connection states a Call reports through onState. */
export const State = Object.freeze({
  idle: 'idle',
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  refused: 'refused', // the server no longer admits the link (expired, revoked)
  closed: 'closed', // the server closed this page for good (link opened elsewhere)
});

// Waits before each reconnection attempt, in milliseconds; the last one repeats.
const BACKOFF = [1000, 2000, 4000, 5000];

// Closing reasons after which the page must not reconnect.
const FINAL_REASONS = new Set(['replaced', 'revoked', 'dropped']);

/**
 * Call connects one participant to its conference.
 *
 * options:
 *   token       the join token
 *   stream      the local MediaStream to publish (may have no tracks: then nothing is published)
 *   iceServers  RTCIceServer list from /api/session (welcome's list replaces it)
 *   on          handlers, all optional:
 *     state(state)                    the connection state changed (see State)
 *     welcome(msg)                    the server's welcome message
 *     wall(slots)                     the point each slot of the hall's wall shows (wall_state)
 *     program(msg)                    which hall console the program's picture and sound come from (program)
 *     mediaState(msg)                 the page's media connected, or failed to (media_state)
 *     downlink(state)                 how this page's link fares with what it receives: good, reduced, audio_only
 *     roster(participants)            who is connected now
 *     track(participantId, stream, track, name) a remote track arrived; name is
 *                                     the server's id of the track (e.g. speaker-video)
 *     streamEnded(participantId, stream)  a remote stream lost its last track
 *     remoteReset()                   every remote stream is gone (before reconnecting)
 *     notice(text)                    something worth telling the user, not fatal
 *     error(msg)                      the server refused a request (after notice)
 *     closed(reason, message)         the server closed the page for good
 *     refused(refusal)                the link was refused when reconnecting
 *     floor(msg, fresh)               a floor_state newer than the last one; fresh
 *                                     marks the first one on a new connection
 *     floorAlert(msg)                 a turn's time ran out (floor_alert)
 *     rollCall(msg, fresh)            a roll_call_state; fresh marks the first on a new connection
 *     conference(msg)                 a conference_state (the conference started or ended)
 *     attendance(msg)                 an attendance_changed nudge (hall and secretariat)
 *     linkQuality(msg)                the server's link_quality (technician and chair)
 *     qualityAlert(msg)               a point's link became poor or recovered (quality_alert)
 *     muted(muted)                    the hall muted (true) or unmuted this participant
 *     restartCamera()                 the hall asks this page to reopen its camera
 *     content(msg)                    who shares content now (content_state)
 *     contentEnded(reason)            this page's content ended: taken away (reason of
 *                                     content_state), refused, or the capture ended
 *   content     true for a page that may share content (a screen, a window, a tab):
 *               its publish PeerConnection then has a video transceiver for it
 *               from the first offer (see shareContent)
 *
 * window.hoinghi (see debugInfo in ui.js) follows the state, the PeerConnections,
 * the participant id, the roster, the floor and the roll call, for tests; and
 * layers, the encodings each published transceiver (by mid) was last asked
 * to send (publish_layers).
 *
 * The camera is published as simulcast when welcome lists video_layers: one
 * encoding per layer, which the server pauses and resumes with publish_layers.
 */
export class Call {
  constructor({ token, stream, iceServers, on, content }) {
    this.token = token;
    this.sharesContent = !!content;
    this.contentTrack = null; // the track this page shares now
    this.stream = stream;
    this.iceServers = iceServers || [];
    this.on = on || {};
    this.link = null; // the current connection attempt
    this.attempt = 0;
    this.timer = 0;
    this.stopped = false;
    this.state = State.idle;
    this.debug = debugInfo();
  }

  /** Connects; the call then keeps itself connected until stop(). */
  start() {
    this.stopped = false;
    this.#setState(State.connecting);
    this.#connect();
  }

  /** Disconnects and stops reconnecting. The local stream is left running. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.#teardown();
  }

  /**
   * Sends a floor action (ask, withdraw, give, extend, take_back, finish,
   * open_discussion, close_discussion) with fields {point_id, subject,
   * seconds}. Returns false, sending nothing, while not connected; the
   * server answers with a floor_state, or an error the page shows as a notice.
   */
  floor(action, fields = {}) {
    const link = this.link;
    if (!link || !link.welcomed || !link.sig) return false;
    const msg = { type: 'floor', action };
    if (fields.point_id) msg.point_id = fields.point_id;
    if (fields.subject) msg.subject = fields.subject;
    if (fields.seconds) msg.seconds = fields.seconds;
    return link.sig.send(msg);
  }

  /**
   * Shares track (a screen, a window or a tab from getDisplayMedia) as the
   * conference's content: asks the server (content start, naming the
   * content transceiver's mid), then sends the track in one encoding,
   * sharp and slow (contentHint "detail", at most 5 frames a second and
   * 1.5 Mbit/s). Resolves true once the server took it, false when it
   * refused (the error comes to on.error too) or the page is not
   * connected. The content ends by stopContent, when the server names
   * another sharer (on.contentEnded) or when the capture ends.
   */
  async shareContent(track) {
    const link = this.link;
    if (!link || !link.welcomed || !link.sig || !link.contentTx?.mid) return false;
    track.contentHint = 'detail';
    this.debug.timing.contentStart = Date.now();
    const taken = new Promise((resolve) => {
      link.contentWaiter?.(false);
      link.contentWaiter = resolve;
    });
    if (!link.sig.send({ type: 'content', action: 'start', mid: link.contentTx.mid })) return false;
    if (!(await taken) || link !== this.link) return false;
    const old = this.contentTrack;
    this.contentTrack = track;
    if (old && old !== track) old.stop();
    track.addEventListener('ended', () => {
      if (this.contentTrack === track) this.stopContent();
    }, { once: true });
    try {
      await link.contentTx.sender.replaceTrack(track);
      const params = link.contentTx.sender.getParameters();
      if (!params.encodings || params.encodings.length === 0) params.encodings = [{}];
      Object.assign(params.encodings[0], { active: true, maxFramerate: 5, maxBitrate: 1_500_000 });
      params.degradationPreference = 'maintain-resolution';
      await link.contentTx.sender.setParameters(params);
    } catch (err) {
      console.warn('hoinghi: content parameters', err);
    }
    return true;
  }

  /** Stops sharing content, telling the server. */
  stopContent() {
    const link = this.link;
    if (!this.contentTrack) return;
    if (link?.welcomed) link.sig?.send({ type: 'content', action: 'stop' });
    this.#endContent(link, 'stopped');
  }

  #endContent(link, reason) {
    const track = this.contentTrack;
    if (!track) return;
    this.contentTrack = null;
    track.stop();
    link?.contentTx?.sender.replaceTrack(null).catch(() => {});
    this.on.contentEnded?.(reason);
  }

  #onContent(link, msg) {
    this.debug.content = msg;
    const mine = !!msg.participant_id && msg.participant_id === this.debug.participantId;
    if (link.contentWaiter && mine) {
      link.contentWaiter(true);
      link.contentWaiter = null;
    } else if (this.contentTrack && !mine) {
      this.#endContent(link, msg.reason || 'replaced');
    }
    this.on.content?.(msg);
  }

  /**
   * Sends a message of the attendance and control protocol (check_in,
   * roll_call, conference, control; see docs/protocol.md) as it is.
   * Returns false, sending nothing, while not connected; a refusal comes
   * back as an error the page shows as a notice.
   */
  send(msg) {
    const link = this.link;
    if (!link || !link.welcomed || !link.sig) return false;
    return link.sig.send(msg);
  }

  /**
   * Publishes track in place of the current track of its kind (another camera or
   * microphone). Adds a new sender and renegotiates when the kind was not published yet.
   */
  async replaceTrack(track) {
    const link = this.link;
    if (!link || !link.pub) return;
    const tr = link.pub.getTransceivers().find((t) => t.receiver.track.kind === track.kind);
    if (tr) {
      await tr.sender.replaceTrack(track);
      // The server's last publish_layers holds for the new track too.
      this.#applyLayers(link, tr.mid);
      return;
    }
    this.#addTrack(link, track);
    this.#negotiatePublish(link);
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.debug.state = state;
    this.on.state?.(state);
  }

  #connect() {
    const link = {
      sig: null,
      pub: null,
      sub: null,
      welcomed: false,
      pubQueue: Promise.resolve(),
      subQueue: Promise.resolve(),
      answerWaiter: null, // {resolve, reject} of the publish_answer awaited
      watchedStreams: new WeakSet(),
      floorVersion: null, // of the last floor_state on this connection
      roster: null, // participant id -> entry, from roster and roster_update
      rosterVersion: 0,
      rollCallSeen: false, // a roll_call_state arrived on this connection
      videoLayers: [], // welcome's simulcast encodings of the camera (video_layers)
      layers: new Map(), // transceiver mid -> the rids publish_layers last asked for
    };
    this.link = link;
    link.sig = new Signaling(signalingURL(this.token), {
      onMessage: (msg) => this.#onMessage(link, msg),
      onClose: (ev) => this.#onSocketClose(link, ev),
    });
  }

  #onMessage(link, msg) {
    if (link !== this.link) return;
    switch (msg.type) {
      case 'welcome':
        this.#onWelcome(link, msg);
        break;
      case 'roster':
      case 'roster_update':
        this.#onRoster(link, msg);
        break;
      case 'publish_answer':
        if (link.answerWaiter) {
          link.answerWaiter.resolve(msg.sdp);
          link.answerWaiter = null;
        } else {
          console.warn('hoinghi: publish_answer without an offer');
        }
        break;
      case 'subscribe_offer':
        link.subQueue = link.subQueue.then(() => this.#answerSubscribe(link, msg.sdp));
        break;
      case 'floor_state':
        this.#onFloor(link, msg);
        break;
      case 'floor_alert':
        this.on.floorAlert?.(msg);
        break;
      case 'roll_call_state':
        this.debug.rollCall = msg;
        this.on.rollCall?.(msg, !link.rollCallSeen);
        link.rollCallSeen = true;
        break;
      case 'conference_state':
        this.debug.conference = msg;
        this.on.conference?.(msg);
        break;
      case 'attendance_changed':
        this.on.attendance?.(msg);
        break;
      case 'link_quality':
        this.debug.linkQuality = msg;
        this.on.linkQuality?.(msg);
        break;
      case 'quality_alert':
        this.on.qualityAlert?.(msg);
        break;
      case 'media_state':
        this.debug.media = msg.state || '';
        this.on.mediaState?.(msg);
        break;
      case 'content_state':
        this.#onContent(link, msg);
        break;
      case 'program':
        this.debug.program = msg;
        this.on.program?.(msg);
        break;
      case 'wall_state':
        this.debug.wall = Array.isArray(msg.slots) ? msg.slots : [];
        this.on.wall?.(this.debug.wall);
        break;
      case 'muted':
        this.debug.muted = !!msg.muted;
        this.on.muted?.(!!msg.muted);
        break;
      case 'restart_camera':
        this.on.restartCamera?.();
        break;
      case 'publish_layers':
        this.#onPublishLayers(link, msg);
        break;
      case 'downlink':
        this.debug.downlink = msg.state || '';
        this.on.downlink?.(msg.state || '');
        break;
      case 'error':
        this.#onServerError(link, msg);
        break;
      case 'closing':
        this.#onClosing(link, msg);
        break;
      default:
        // Newer servers may send types this page does not know yet.
        console.debug('hoinghi: ignoring message', msg.type);
    }
  }

  // The server sends the whole roster once, then its changes; a whole
  // roster again when this page fell behind. Each change carries the
  // roster's version: one already applied is skipped.
  #onRoster(link, msg) {
    if (msg.type === 'roster') {
      link.roster = new Map();
      for (const p of Array.isArray(msg.participants) ? msg.participants : []) link.roster.set(p.id, p);
    } else {
      if (!link.roster || msg.version <= link.rosterVersion) return;
      for (const p of Array.isArray(msg.set) ? msg.set : []) link.roster.set(p.id, p);
      for (const id of Array.isArray(msg.removed) ? msg.removed : []) link.roster.delete(id);
    }
    link.rosterVersion = Number(msg.version) || 0;
    this.debug.roster = [...link.roster.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.on.roster?.(this.debug.roster);
  }

  #onWelcome(link, msg) {
    link.welcomed = true;
    this.debug.participantId = msg.participant_id;
    if (Array.isArray(msg.ice_servers) && msg.ice_servers.length > 0) {
      this.iceServers = msg.ice_servers;
    }
    const config = { iceServers: this.iceServers, bundlePolicy: 'max-bundle' };
    link.videoLayers = sendEncodings(msg.video_layers);
    this.debug.layers = {};

    link.sub = new RTCPeerConnection(config);
    this.debug.pcs.subscribe = link.sub;
    this.#watchPC(link, link.sub, 'subscribe');
    link.sub.ontrack = (ev) => this.#onTrack(link, ev);

    const tracks = this.stream ? this.stream.getTracks() : [];
    if (tracks.length > 0 || this.sharesContent) {
      link.pub = new RTCPeerConnection(config);
      this.debug.pcs.publish = link.pub;
      this.#watchPC(link, link.pub, 'publish');
      for (const track of tracks) this.#addTrack(link, track);
      // Content goes on a transceiver of its own, there from the first
      // offer, so that sharing needs no renegotiation.
      if (this.sharesContent) link.contentTx = link.pub.addTransceiver('video', { direction: 'sendonly' });
      this.#negotiatePublish(link);
    } else {
      this.debug.pcs.publish = null;
    }
    this.on.welcome?.(msg);
    this.#updateState(link);
  }

  // Adds a send-only transceiver for track to the publish PeerConnection: a
  // camera in the encodings of welcome's video_layers when there are some,
  // else (or when the browser refuses them) in one encoding.
  #addTrack(link, track) {
    const init = { direction: 'sendonly', streams: [this.stream] };
    if (track.kind === 'video' && link.videoLayers.length > 0) {
      try {
        return link.pub.addTransceiver(track, { ...init, sendEncodings: link.videoLayers });
      } catch (err) {
        console.warn('hoinghi: no simulcast, publishing one encoding', err);
      }
    }
    return link.pub.addTransceiver(track, init);
  }

  // The server asks which encodings of the transceiver msg.mid to send
  // (active, by rid; "" for a track sent in one encoding) and which to
  // pause (paused); those it names in neither, which it has not received
  // yet, stay as they are. The request is remembered, to be applied again
  // when the sender's parameters may have been reset (a renegotiation, a
  // replaced track).
  #onPublishLayers(link, msg) {
    const mid = typeof msg.mid === 'string' ? msg.mid : '';
    const known = !!link.pub && link.pub.getTransceivers().some((tr) => tr.mid === mid);
    if (!known || !Array.isArray(msg.active)) {
      console.debug('hoinghi: publish_layers for no published transceiver', msg.mid, msg.active);
      return;
    }
    const rids = (list) => (Array.isArray(list) ? list.filter((rid) => typeof rid === 'string') : []);
    const active = { on: rids(msg.active), off: rids(msg.paused) };
    link.layers.set(mid, active);
    this.debug.layers = { ...this.debug.layers, [mid]: active };
    this.#applyLayers(link, mid);
  }

  // Sets the encodings of the transceiver mid active as the server last
  // asked (nothing when it did not ask yet), after the publish
  // PeerConnection's negotiations and earlier changes: setParameters
  // must not race another call on the sender.
  #applyLayers(link, mid) {
    if (!link.layers.has(mid)) return;
    link.pubQueue = link.pubQueue.then(async () => {
      if (link !== this.link || !link.pub) return;
      const active = link.layers.get(mid);
      const tr = link.pub.getTransceivers().find((t) => t.mid === mid);
      if (!tr || !active) return;
      try {
        const params = tr.sender.getParameters();
        if (!params.encodings || params.encodings.length === 0) return;
        let changed = false;
        for (const enc of params.encodings) {
          const rid = enc.rid || '';
          const on = active.on.includes(rid) ? true : active.off.includes(rid) ? false : enc.active;
          if (enc.active !== on) {
            enc.active = on;
            changed = true;
          }
        }
        if (changed) await tr.sender.setParameters(params);
      } catch (err) {
        console.warn('hoinghi: publish_layers not applied', mid, active, err);
      }
    });
  }

  // Sends candidates as they come, and restarts the connection when ICE fails for good.
  #watchPC(link, pc, name) {
    pc.onicecandidate = (ev) => {
      if (link !== this.link || !ev.candidate || !ev.candidate.candidate) return;
      link.sig.send({ type: 'candidate', pc: name, candidate: ev.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => {
      if (link !== this.link) return;
      if (pc.connectionState === 'failed') {
        console.warn(`hoinghi: ${name} PeerConnection failed; reconnecting`);
        this.on.notice?.(t('call.lost'));
        this.#restart(link);
        return;
      }
      this.#updateState(link);
    };
  }

  #updateState(link) {
    if (link !== this.link || !link.welcomed) return;
    const ready = link.pub ? link.pub.connectionState === 'connected' : true;
    if (ready) {
      this.attempt = 0;
      this.#setState(State.connected);
    }
  }

  // Offers the publish PeerConnection's tracks and waits for the answer; one at a time.
  #negotiatePublish(link) {
    link.pubQueue = link.pubQueue.then(async () => {
      if (link !== this.link) return;
      try {
        const answered = new Promise((resolve, reject) => {
          link.answerWaiter = { resolve, reject };
        });
        await link.pub.setLocalDescription(await link.pub.createOffer());
        if (!link.sig.send({ type: 'publish_offer', sdp: link.pub.localDescription.sdp })) return;
        const sdp = await answered;
        if (link !== this.link) return;
        await link.pub.setRemoteDescription({ type: 'answer', sdp });
      } catch (err) {
        if (link !== this.link) return;
        console.warn('hoinghi: publishing failed', err);
        this.on.notice?.(t('call.publishfail'));
        this.#restart(link);
      }
    });
    // A negotiation may reset the senders' encodings: ask them again.
    for (const mid of link.layers.keys()) this.#applyLayers(link, mid);
  }

  async #answerSubscribe(link, sdp) {
    if (link !== this.link || !link.sub) return;
    try {
      await link.sub.setRemoteDescription({ type: 'offer', sdp });
      await link.sub.setLocalDescription(await link.sub.createAnswer());
      if (link !== this.link) return;
      link.sig.send({ type: 'subscribe_answer', sdp: link.sub.localDescription.sdp });
    } catch (err) {
      if (link !== this.link) return;
      console.warn('hoinghi: answering subscribe_offer failed', err);
      this.on.notice?.(t('call.subscribefail'));
      this.#restart(link);
    }
  }

  #onTrack(link, ev) {
    if (link !== this.link) return;
    const stream = ev.streams[0];
    // The server probes this page's link with padding on a track of its own: no picture.
    if (stream && stream.id === 'probe') return;
    if (!stream) {
      console.warn('hoinghi: remote track without a stream', ev.track.kind);
      return;
    }
    if (!link.watchedStreams.has(stream)) {
      link.watchedStreams.add(stream);
      stream.addEventListener('removetrack', () => {
        if (link === this.link && stream.getTracks().length === 0) {
          this.on.streamEnded?.(stream.id, stream);
        }
      });
    }
    const name = msidTrack(link.sub.remoteDescription?.sdp, ev.transceiver?.mid);
    this.on.track?.(stream.id, stream, ev.track, name);
  }

  #onFloor(link, msg) {
    const fresh = link.floorVersion === null;
    if (!fresh && msg.version < link.floorVersion) return;
    link.floorVersion = msg.version;
    this.debug.floor = msg;
    this.on.floor?.(msg, fresh);
  }

  #onServerError(link, msg) {
    // A refused stats report (see reportOwnStats in stats.js) is nothing the user can act on.
    if (msg.request === 'stats') {
      console.debug('hoinghi: stats report refused', msg.code);
      return;
    }
    console.warn('hoinghi: server error', msg.code, msg.message, msg.request || '');
    this.on.notice?.(serverErrorText(msg));
    this.on.error?.(msg);
    if (msg.request === 'content' && link.contentWaiter) {
      link.contentWaiter(false);
      link.contentWaiter = null;
    }
    // A refused offer gets no answer: fail the negotiation waiting for one.
    if (msg.request === 'publish_offer' && link.answerWaiter) {
      link.answerWaiter.reject(new Error(`publish_offer refused: ${msg.code}`));
      link.answerWaiter = null;
      return;
    }
    // An internal failure on a negotiation leaves media half set up: start over.
    if (msg.code === 'internal' && (msg.request === 'publish_offer' || msg.request === 'subscribe_answer')) {
      this.#restart(link);
    }
  }

  #onClosing(link, msg) {
    if (FINAL_REASONS.has(msg.reason)) {
      this.stop();
      this.#setState(State.closed);
      this.on.closed?.(msg.reason, msg.message || '');
      return;
    }
    this.on.notice?.(closingText(msg.reason, msg.message));
    // The socket close that follows reconnects.
  }

  #onSocketClose(link, ev) {
    if (link !== this.link || this.stopped) return;
    console.info('hoinghi: signaling closed', ev.code, ev.reason);
    this.#restart(link);
  }

  // Drops the current connection and reconnects after a backoff.
  #restart(link) {
    if (link !== this.link || this.stopped) return;
    this.#teardown();
    this.#setState(State.reconnecting);
    const delay = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)];
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#reconnect(), delay);
  }

  async #reconnect() {
    if (this.stopped) return;
    // A refused WebSocket upgrade looks like any network failure to the page, so
    // ask the API first whether the link is still admitted.
    const res = await fetchSession(this.token);
    if (this.stopped) return;
    if (res.refusal) {
      this.stop();
      this.#setState(State.refused);
      this.on.refused?.(res.refusal);
      return;
    }
    if (res.ok && Array.isArray(res.session.ice_servers)) {
      this.iceServers = res.session.ice_servers;
    }
    this.#connect();
  }

  #teardown() {
    const link = this.link;
    this.link = null;
    if (!link) return;
    link.answerWaiter = null;
    link.contentWaiter?.(false);
    link.contentWaiter = null;
    // The server ends the content of a connection that went away.
    this.#endContent(link, 'left');
    link.sig?.close();
    link.pub?.close();
    link.sub?.close();
    this.debug.pcs.publish = null;
    this.debug.pcs.subscribe = null;
    if (link.sub) this.on.remoteReset?.();
  }
}

/**
 * Returns the sendEncodings of a camera for welcome's video_layers (lowest
 * first: rid, scale_down_by, max_bitrate), each active; none (one encoding)
 * when the list is absent or empty or a layer has no rid.
 */
export function sendEncodings(layers) {
  if (!Array.isArray(layers) || layers.length === 0) return [];
  const out = [];
  for (const l of layers) {
    if (!l || typeof l.rid !== 'string' || l.rid === '') return [];
    const enc = { rid: l.rid, active: true, scaleResolutionDownBy: Math.max(1, Number(l.scale_down_by) || 1) };
    if (Number(l.max_bitrate) > 0) enc.maxBitrate = Number(l.max_bitrate);
    out.push(enc);
  }
  return out;
}

// Requests of the attendance and control protocol, whose refusals have texts
// of their own (error.<request>.<code>).
const ATTENDANCE_REQUESTS = new Set(['check_in', 'roll_call', 'conference', 'control']);

/** Returns a plain sentence (in the page's language) for a server error message. */
export function serverErrorText(msg) {
  if (msg.request === 'floor') return floorErrorText(msg);
  if (msg.request === 'content') {
    return has(`error.content.${msg.reason}`) ? t(`error.content.${msg.reason}`) : t('error.content.other', { code: msg.code || '?' });
  }
  if (msg.request === 'conference' && (msg.reason === 'ended' || msg.reason === 'started')) {
    return t('conference.why.' + msg.reason);
  }
  if (ATTENDANCE_REQUESTS.has(msg.request) && has(`error.${msg.request}.${msg.code}`)) {
    return t(`error.${msg.request}.${msg.code}`);
  }
  switch (msg.code) {
    case 'bad_sdp':
    case 'forbidden':
    case 'rate_limited':
    case 'internal':
      return t('error.' + msg.code);
    default:
      return t('error.other', { code: msg.code || '?' });
  }
}

/** Returns a plain sentence (in the page's language) for why the server closed the connection. */
export function closingText(reason, message) {
  switch (reason) {
    case 'replaced':
    case 'revoked':
    case 'shutdown':
    case 'abuse':
    case 'dropped':
      return t('closing.' + reason);
    default:
      return message || t('closing.other');
  }
}
