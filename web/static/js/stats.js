// Stats: what the pages read from their own WebRTC getStats — the selected
// candidate pair (round trip, path), bitrates, and a link-quality grade per
// received participant.

/**
 * Link-quality thresholds. A link is "good" (green) when every measure is
 * under the first number, "fair" (yellow) when every measure is under the
 * second, else "poor" (red):
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
 */
export const THRESHOLDS = Object.freeze({
  loss: [0.02, 0.08],
  jitter: [30, 80],
  rtt: [150, 400],
  fps: [10, 3],
});

/**
 * Returns "good", "fair" or "poor" for one participant of the server's
 * link_quality message ({rtt_ms, loss_percent, kbps, network}): its round
 * trip and loss against THRESHOLDS.rtt and THRESHOLDS.loss. A link the
 * server received nothing from in the last interval (kbps 0) is "poor";
 * the network (UDP, TCP or TURN relay) is shown, not judged.
 */
export function gradeLink(q) {
  if (!(q.kbps > 0)) return 'poor';
  return grade({ rtt: q.rtt_ms, loss: q.loss_percent / 100 });
}

/** Returns "good", "fair" or "poor" for the measures given (missing ones are not judged). */
export function grade({ loss, jitter, rtt, fps }) {
  let level = 0; // 0 good, 1 fair, 2 poor
  const worse = (value, [good, fair], higherIsBetter = false) => {
    if (value === undefined || value === null || Number.isNaN(value)) return;
    const l = higherIsBetter ? (value >= good ? 0 : value >= fair ? 1 : 2) : (value < good ? 0 : value < fair ? 1 : 2);
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
