/**
 * A KLL quantile sketch (Karnin, Lang, Liberty): a stack of compactors, level h holding items of weight 2^h.
 * A full level is sorted and every other item (by a coin flip) moves up a level. Mergeable (levels concatenate),
 * so windows and subtasks combine without buffering records; memory is O(k log(n/k)). With the default k = 200
 * a quantile's rank is within about 1.7% of n of the true rank (the bound DataSketches gives for k = 200, at 99%
 * confidence). The coin comes from a seeded generator: the same input gives the same sketch.
 * @example const s = new KllSketch(); for (const x of prices) s.add(x); s.quantile(0.5)
 */
export class KllSketch {
  readonly k: number
  private levels: number[][] = [[]]
  private seed: number
  /** Items added (the sum of weights). */
  n = 0
  min = Infinity
  max = -Infinity

  constructor(k = 200, seed = 0x9e3779b9) {
    this.k = k
    this.seed = seed >>> 0 || 1
  }

  add(x: number): void {
    this.n++
    if (x < this.min) this.min = x
    if (x > this.max) this.max = x
    this.levels[0].push(x)
    if (this.levels[0].length >= this.capacity(0)) this.compress()
  }

  /** Adds another sketch's items into this one. */
  merge(o: KllSketch): void {
    while (this.levels.length < o.levels.length) this.levels.push([])
    o.levels.forEach((l, h) => this.levels[h].push(...l))
    this.n += o.n
    this.min = Math.min(this.min, o.min)
    this.max = Math.max(this.max, o.max)
    this.compress()
  }

  /** The value at rank q·n (0 ≤ q ≤ 1), or null when empty. q = 0 and q = 1 are the exact min and max. */
  quantile(q: number): number | null {
    if (this.n === 0) return null
    if (q <= 0) return this.min
    if (q >= 1) return this.max
    const items: [number, number][] = []
    this.levels.forEach((l, h) => {
      for (const x of l) items.push([x, 2 ** h])
    })
    items.sort((a, b) => a[0] - b[0])
    const target = q * this.n
    let cum = 0
    for (const [x, w] of items) {
      cum += w
      if (cum >= target) return x
    }
    return this.max
  }

  snapshot(): { k: number; seed: number; n: number; min: number; max: number; levels: number[][] } {
    return { k: this.k, seed: this.seed, n: this.n, min: this.min, max: this.max, levels: this.levels.map((l) => [...l]) }
  }

  static restore(s: ReturnType<KllSketch['snapshot']>): KllSketch {
    const k = new KllSketch(s.k, s.seed)
    k.n = s.n
    k.min = s.min ?? Infinity
    k.max = s.max ?? -Infinity
    k.levels = s.levels.map((l) => [...l])
    return k
  }

  private capacity(h: number): number {
    const depth = this.levels.length - 1 - h
    return Math.max(Math.ceil(this.k * (2 / 3) ** depth), 2)
  }

  private compress(): void {
    for (let h = 0; h < this.levels.length; h++) {
      const l = this.levels[h]
      if (l.length < this.capacity(h)) continue
      if (h + 1 === this.levels.length) this.levels.push([])
      l.sort((a, b) => a - b)
      // An odd item stays behind so the weight moved up is exact.
      const keep = l.length % 2 === 1 ? l.pop()! : undefined
      const offset = this.coin()
      const up = this.levels[h + 1]
      for (let i = offset; i < l.length; i += 2) up.push(l[i])
      this.levels[h] = keep === undefined ? [] : [keep]
    }
  }

  private coin(): number {
    let x = this.seed
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.seed = x >>> 0
    return this.seed & 1
  }
}
