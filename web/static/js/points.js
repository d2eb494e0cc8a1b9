// Points: the connection points a hall page knows of — those in the roster
// now, those seen earlier in this session (kept as disconnected, so that a
// point coming back is the same entry, never a second one) and, when the page
// may list them, every invited point. Sorting and searching for the lists.

/**
 * Point states, from best to worst:
 *   connected  in the roster now
 *   offline    was connected during this session and left (maybe reconnecting)
 *   invited    invited, not connected during this session
 */
export const POINT_STATES = ['connected', 'offline', 'invited'];

/**
 * PointBook keeps one entry per point id: {id, name, state, since (start of
 * the current connection), leftAt}.
 */
export class PointBook {
  constructor() {
    this.points = new Map();
  }

  /** Adds invited points [{point_id, name}] that are not known yet. */
  invite(list) {
    for (const p of list) {
      if (!p.point_id || this.points.has(p.point_id)) continue;
      this.points.set(p.point_id, { id: p.point_id, name: p.name || p.point_id, state: 'invited', since: null, leftAt: null });
    }
  }

  /** Applies a roster (every participant connected now); only points are kept. */
  roster(participants) {
    const now = new Date();
    const present = new Set();
    for (const p of participants) {
      if (p.role !== 'point') continue;
      present.add(p.id);
      const known = this.points.get(p.id);
      if (!known) {
        this.points.set(p.id, { id: p.id, name: p.name || p.id, state: 'connected', since: now, leftAt: null });
        continue;
      }
      known.name = p.name || known.name;
      if (known.state !== 'connected') {
        known.state = 'connected';
        known.since = now;
        known.leftAt = null;
      }
    }
    for (const known of this.points.values()) {
      if (known.state === 'connected' && !present.has(known.id)) {
        known.state = 'offline';
        known.leftAt = now;
      }
    }
  }

  /** Returns the entries, in name order. */
  list() {
    return [...this.points.values()].sort(byName);
  }

  /** Returns how many points are connected now. */
  connectedCount() {
    let n = 0;
    for (const p of this.points.values()) if (p.state === 'connected') n++;
    return n;
  }
}

/** Compares two entries by name the Vietnamese way, then by id. */
export function byName(a, b) {
  return (a.name || a.id).localeCompare(b.name || b.id, 'vi', { numeric: true }) || a.id.localeCompare(b.id);
}

/** Returns text lower-cased without diacritics (đ as d), for searching Vietnamese names. */
export function fold(text) {
  return String(text || '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'd')
    .toLowerCase();
}

/** Reports whether name matches the search query (every word, diacritics ignored). */
export function matches(name, query) {
  const words = fold(query).split(/\s+/).filter(Boolean);
  const target = fold(name);
  return words.every((w) => target.includes(w));
}
