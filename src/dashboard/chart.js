// Time series as inline SVG: a polyline per series scaled to its own maximum, with the last value as a label.
// A few hundred points per chart, redrawn once a second: no charting library needed.

/** A chart of `points` (numbers, oldest first) `width` x `height` pixels; `data-points` tells how many it holds. */
export function lineChart(points, { width = 120, height = 26, label = '' } = {}) {
  const finite = points.map((v) => (Number.isFinite(v) ? v : 0))
  const max = Math.max(1, ...finite)
  const step = finite.length > 1 ? width / (finite.length - 1) : 0
  const xy = finite.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ')
  const title = label ? `<title>${label}</title>` : ''
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" data-points="${points.length}" role="img">${title}<polyline points="${xy}"/></svg>`
}

/** Keeps the last `n` values of named series. */
export class Series {
  constructor(n = 120) {
    this.n = n
    this.map = new Map()
  }
  push(name, v) {
    const s = this.map.get(name) ?? []
    s.push(v)
    if (s.length > this.n) s.shift()
    this.map.set(name, s)
    return s
  }
  get(name) {
    return this.map.get(name) ?? []
  }
}

/** Per-second rates of counters between two snapshots taken `dtMs` apart (null on the first). */
export function rate(now, before, dtMs) {
  return before === undefined || dtMs <= 0 ? null : ((now - before) * 1000) / dtMs
}
