/**
 * A count as people read it in a terminal: thousands separated by commas, whatever the machine's locale.
 *
 * @example formatCount(2841) // '2,841'
 */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}
