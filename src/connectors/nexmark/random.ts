/** 32-bit finaliser: spreads every input bit over the output. */
export function mix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x7feb352d)
  h ^= h >>> 15
  h = Math.imul(h, 0x846ca68b)
  h ^= h >>> 16
  return h | 0
}

/**
 * A small counter-based PRNG. `reset(seed, n)` makes its sequence a pure function of (seed, n), so one
 * instance is reused for every event without allocating.
 */
export class EventRandom {
  private s = 0
  // mix32 of the last seed, which is the same for every event of a stream.
  private seed = 0
  private seedMix = mix32(0x3c6ef372)

  reset(seed: number, n: number): void {
    if (seed !== this.seed) {
      this.seed = seed
      this.seedMix = mix32(seed ^ 0x3c6ef372)
    }
    const lo = n >>> 0
    const hi = Math.floor(n / 4294967296) | 0
    this.s = mix32(mix32(lo ^ this.seedMix) + Math.imul(hi, 0x9e3779b9))
  }

  /** Uniform in [0, 1) with 32 random bits: `(nextBits() >>> 0) / 2^32`. */
  next(): number {
    this.s = (this.s + 0x9e3779b9) | 0
    return (mix32(this.s) >>> 0) / 4294967296
  }

  /** The next 32 random bits as a signed integer (the same draw as `next`: `next() * 2^32 === bits >>> 0`). */
  nextBits(): number {
    this.s = (this.s + 0x9e3779b9) | 0
    return mix32(this.s)
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
}

/** A string of `length` characters, each `alphabet`-letter with probability 1 - 1/space, else `spaceChar`. */
export function randomText(rng: EventRandom, length: number, spaceOdds: number, spaceChar: string): string {
  const bytes = new Uint8Array(length)
  const sp = spaceChar.charCodeAt(0)
  for (let i = 0; i < length; i++) bytes[i] = spaceOdds > 0 && rng.int(spaceOdds) === 0 ? sp : 97 + rng.int(26)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}
