// 100 * 10^(6u / 2^32) for a 32-bit u is a product of four table entries, one per byte of u:
// 100 * 10^(6a / 2^8) * 10^(6b / 2^16) * 10^(6c / 2^24) * 10^(6d / 2^32). Each entry is within an ulp or two.
const BYTE0 = powers(6 / 2 ** 8, 100)
const BYTE1 = powers(6 / 2 ** 16, 1)
const BYTE2 = powers(6 / 2 ** 24, 1)
const BYTE3 = powers(6 / 2 ** 32, 1)

function powers(step: number, scale: number): Float64Array {
  const t = new Float64Array(256)
  for (let i = 0; i < 256; i++) t[i] = Math.pow(10, i * step) * scale
  return t
}

// The product is within about 2e-15 of the exact power (relative), so within 2e-7 of the price before
// rounding (prices stay below 1e8): rounding it can differ from rounding `Math.pow`'s result only near a half.
const NEAR_HALF = 1e-6

/**
 * A Nexmark price in cents from 32 random bits `u` (signed or not): `Math.round(Math.pow(10, u' / 2^32 * 6) * 100)`
 * with u' = u >>> 0, log-uniform between 1 and 1,000,000 dollars. The same value, from four table lookups:
 * `Math.pow` (a call into libm) and `Math.round` (not inlined) were the dearest part of a bid. The exact
 * formula is used only when the rounding is too close to call.
 */
export function priceOf(u: number): number {
  const y = BYTE0[u >>> 24] * BYTE1[(u >>> 16) & 0xff] * BYTE2[(u >>> 8) & 0xff] * BYTE3[u & 0xff]
  const whole = Math.floor(y)
  const f = y - whole
  if (f > 0.5 - NEAR_HALF && f < 0.5 + NEAR_HALF) return Math.round(Math.pow(10, ((u >>> 0) / 4294967296) * 6) * 100)
  return f < 0.5 ? whole : whole + 1
}
