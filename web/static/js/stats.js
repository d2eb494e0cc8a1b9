// Stats: what the pages read from their own WebRTC getStats — the selected
// candidate pair (round trip, path), bitrates, and a link-quality grade per
// received participant.

/**
 * Link-quality thresholds of what a page measures itself (the console's
 * own measure of the points it shows, when the server's figures are not
 * fresh). A link is "good" (green) when no measure is over the first
 * number, "fair" (yellow) when none is over the second, else "poor" (red):
 *   loss    fraction of packets lost in the last interval: 2 %, 8 %.
 *           Video with FEC and NACK hides about 2 % well; past 8 % the picture
 *           freezes or smears visibly.
 *   jitter  interarrival jitter from the RTP reports: 30 ms, 80 ms. The jitter
 *           buffer absorbs 30 ms unnoticed; 80 ms adds visible delay.
 *   rtt     round trip of the selected candidate pair: 150 ms, 400 ms.
 *           Conversation stays natural under 150 ms, and awkward past 400 ms.
 *   fps     decoded frames a second: at least 10, at least 3 (a tile that
 *           decodes fewer is frozen to the eye, whatever the network says).
 * No packet at all in the interval is "poor"; nothing measured yet is "none".
 * The server grades the hall's figures of every link (link_quality's
 * "grade") with the same loss and rtt bounds, and holds a poor grade for
 * 10 s before it alerts (see "Quality alerts" in docs/protocol.md): the
 * console shows that grade, not one of its own.
 */
export const THRESHOLDS = Object.freeze({
  loss: [0.02, 0.08],
  jitter: [30, 80],
  rtt: [150, 400],
  fps: [10, 3],
});

/** Returns "good", "fair" or "poor" for the measures given (missing ones are not judged). */
export function grade({ loss, jitter, rtt, fps }) {
  let level = 0; // 0 good, 1 fair, 2 poor
  const worse = (value, [good, fair], higherIsBetter = false) => {
    if (value === undefined || value === null || Number.isNaN(value)) return;
    const l = higherIsBetter ? (value >= good ? 0 : value >= fair ? 1 : 2) : (value <= good ? 0 : value <= fair ? 1 : 2);
    level = Math.max(level, l);
  };
  worse(loss, THRESHOLDS.loss);
  worse(jitter, THRESHOLDS.jitter);
  worse(rtt, THRESHOLDS.rtt);
  worse(fps, THRESHOLDS.fps, true);
  return ['good', 'fair', 'poor'][level];
}

/**
 * Returns the selected candidate pair of a stats report: {rtt (ms),
 * protocol ("udp"/"tcp"), candidateType ("host", "srflx", "prflx", "relay"),
 * outgoingBitrate (bit/s)}, or null while ICE has not selected one.
 */
export function selectedPair(report) {
  let pair = null;
  report.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = report.get(r.selectedCandidatePairId) || pair;
  });
  if (!pair) {
    report.forEach((r) => {
      if (r.type === 'candidate-pair' && r.state === 'succeeded' && r.nominated) pair = pair || r;
    });
  }
  if (!pair) return null;
  const local = report.get(pair.localCandidateId) || {};
  return {
    rtt: pair.currentRoundTripTime !== undefined ? pair.currentRoundTripTime * 1000 : undefined,
    protocol: local.relayProtocol || local.protocol || '',
    candidateType: local.candidateType || '',
    outgoingBitrate: pair.availableOutgoingBitrate,
  };
}

/** Returns the bytes sent by the video outbound-rtp reports (all simulcast layers). */
export function videoBytesSent(report) {
  let bytes = 0;
  report.forEach((r) => {
    if (r.type === 'outbound-rtp' && r.kind === 'video') bytes += r.bytesSent || 0;
  });
  return bytes;
}

/** Returns the video frames decoded by the inbound-rtp reports of a report. */
export function videoFramesDecoded(report) {
  let frames = 0;
  report.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
  });
  return frames;
}

/**
 * InboundQuality measures, from one subscribe PeerConnection, the link
 * quality of each participant received: call sample() at a steady interval.
 */
export class InboundQuality {
  constructor() {
    this.previous = new Map(); // track id -> {at, packetsReceived, packetsLost, framesDecoded}
  }

  /** Forgets earlier samples (after a reconnection the counters restart). */
  reset() {
    this.previous.clear();
  }

  /**
   * Samples pc and returns a Map from participant id to {loss, jitter, rtt,
   * fps, quality}. owner(trackId) names the participant of a track, or "".
   */
  async sample(pc, owner) {
    const out = new Map();
    if (!pc) return out;
    const report = await pc.getStats();
    const pair = selectedPair(report);
    const seen = new Set();
    report.forEach((r) => {
      if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
      const id = owner(r.trackIdentifier);
      if (!id) return;
      seen.add(r.trackIdentifier);
      const now = { at: r.timestamp, packetsReceived: r.packetsReceived || 0, packetsLost: r.packetsLost || 0, framesDecoded: r.framesDecoded || 0 };
      const before = this.previous.get(r.trackIdentifier);
      this.previous.set(r.trackIdentifier, now);
      if (!before || now.at <= before.at) return;
      const received = now.packetsReceived - before.packetsReceived;
      const lost = Math.max(0, now.packetsLost - before.packetsLost);
      const seconds = (now.at - before.at) / 1000;
      const m = {
        loss: received + lost > 0 ? lost / (received + lost) : undefined,
        jitter: (r.jitter || 0) * 1000,
        rtt: pair?.rtt,
        fps: (now.framesDecoded - before.framesDecoded) / seconds,
      };
      m.quality = received === 0 ? 'poor' : grade(m);
      out.set(id, m);
    });
    for (const id of this.previous.keys()) if (!seen.has(id)) this.previous.delete(id);
    return out;
  }
}

/** Returns the median of the numbers in values. */
export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : undefined;
}

// Bounds of the figures of a stats report, as the server clamps them.
const MAX_KBPS = 1e6;
const MAX_FPS = 240;
const MAX_MS = 60000;

// Returns v rounded to one decimal and at most max, or undefined when v is
// not a finite number of at least 0.
function figure(v, max) {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return undefined;
  return Math.round(Math.min(v, max) * 10) / 10;
}

/**
 * OwnStats measures this page's own media for the server's "stats" report
 * (see "Link quality" in docs/protocol.md): what it sends on the publish
 * PeerConnection, what it receives on the subscribe one, and the selected
 * candidate pair. Call sample() at a steady interval.
 */
export class OwnStats {
  constructor() {
    this.previous = null; // {pub, sub, at, sent, received, packets, lost}
  }

  /**
   * Samples the PeerConnections pub and sub (either may be null) and
   * returns the report's fields (send_kbps, send_width, ...; see
   * protocol.md), leaving out what is unknown, or null when there is
   * nothing to measure. Bitrates and loss need two samples on the same
   * PeerConnections.
   */
  async sample(pub, sub) {
    if (!pub && !sub) {
      this.previous = null;
      return null;
    }
    const [out, inb] = await Promise.all([pub ? pub.getStats() : null, sub ? sub.getStats() : null]);
    const now = { pub, sub, at: performance.now(), sent: 0, received: 0, packets: 0, lost: 0 };
    const report = {};

    let top = null; // the highest video layer sent
    out?.forEach((r) => {
      if (r.type !== 'outbound-rtp') return;
      now.sent += r.bytesSent || 0;
      if (r.kind === 'video' && r.frameWidth && (!top || r.frameWidth * r.frameHeight > top.frameWidth * top.frameHeight)) top = r;
    });
    if (top) {
      report.send_width = Math.min(top.frameWidth, 8192);
      report.send_height = Math.min(top.frameHeight || 0, 8192);
      report.send_fps = figure(top.framesPerSecond, MAX_FPS);
      if (['none', 'cpu', 'bandwidth', 'other'].includes(top.qualityLimitationReason)) report.send_limit = top.qualityLimitationReason;
    }

    let jitter;
    const fps = [];
    inb?.forEach((r) => {
      if (r.type !== 'inbound-rtp') return;
      now.received += r.bytesReceived || 0;
      now.packets += r.packetsReceived || 0;
      now.lost += Math.max(0, r.packetsLost || 0);
      if (typeof r.jitter === 'number') jitter = Math.max(jitter ?? 0, r.jitter * 1000);
      if (r.kind === 'video' && typeof r.framesPerSecond === 'number') fps.push(r.framesPerSecond);
    });
    report.jitter_ms = figure(jitter, MAX_MS);
    if (fps.length > 0) report.recv_fps = figure(fps.reduce((a, b) => a + b, 0) / fps.length, MAX_FPS);

    const before = this.previous;
    this.previous = now;
    if (before && before.pub === pub && before.sub === sub && now.at > before.at) {
      const ms = now.at - before.at;
      if (pub) report.send_kbps = figure(((now.sent - before.sent) * 8) / ms, MAX_KBPS);
      if (sub) {
        report.recv_kbps = figure(((now.received - before.received) * 8) / ms, MAX_KBPS);
        const packets = now.packets - before.packets;
        const lost = Math.max(0, now.lost - before.lost);
        if (packets + lost > 0) report.recv_loss_percent = figure((lost / (packets + lost)) * 100, 100);
      }
    }

    const pair = selectedPair(out || inb) || (out && inb ? selectedPair(inb) : null);
    if (pair) {
      report.client_rtt_ms = figure(pair.rtt, MAX_MS);
      if (['udp', 'tcp', 'tls'].includes(pair.protocol)) report.client_network = pair.protocol;
      if (['host', 'srflx', 'prflx', 'relay'].includes(pair.candidateType)) report.client_candidate = pair.candidateType;
    }
    for (const k of Object.keys(report)) if (report[k] === undefined) delete report[k];
    return report;
  }
}

/**
 * Sends the server this page's own figures (a "stats" message) every
 * interval milliseconds: pcs() returns {publish, subscribe}, the page's
 * current PeerConnections; send(msg) sends a message and returns false
 * while not connected; onReport(report), optional, gets each report sent.
 * Returns a function that stops the reports.
 */
export function reportOwnStats({ pcs, send, onReport, interval = 2000 }) {
  const own = new OwnStats();
  let busy = false;
  let sentAt = 0;
  const timer = setInterval(async () => {
    // A background tab's timers come late and then in a bunch: keep the
    // reports apart, as the server takes one a second at most.
    if (busy || performance.now() - sentAt < interval * 0.75) return;
    busy = true;
    try {
      const { publish, subscribe } = pcs() || {};
      const report = await own.sample(publish || null, subscribe || null);
      if (report && Object.keys(report).length > 0 && send({ type: 'stats', ...report })) {
        sentAt = performance.now();
        onReport?.(report);
      }
    } catch (err) {
      console.warn('hoinghi: stats report', err);
    } finally {
      busy = false;
    }
  }, interval);
  return () => clearInterval(timer);
}
