/** A value the YAML writer takes: plain data, no cycles. */
export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml }

/**
 * Plain data as block-style YAML: maps and lists indented by two spaces, every string double-quoted (JSON
 * escapes are valid YAML), so no value is ever read back as another type.
 * @example toYaml({ groups: [{ name: 'g', rules: [] }] }) // 'groups:\n  - name: "g"\n    rules: []\n'
 */
export function toYaml(v: Yaml): string {
  return lines(v, 0).join('\n') + '\n'
}

function scalar(v: Yaml): string | undefined {
  if (v === null) return 'null'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v) && v.length === 0) return '[]'
  if (!Array.isArray(v) && Object.keys(v).length === 0) return '{}'
  return undefined
}

function lines(v: Yaml, indent: number): string[] {
  const pad = ' '.repeat(indent)
  const s = scalar(v)
  if (s !== undefined) return [pad + s]
  const out: string[] = []
  if (Array.isArray(v)) {
    for (const item of v) {
      const inner = scalar(item)
      if (inner !== undefined) {
        out.push(`${pad}- ${inner}`)
        continue
      }
      const body = lines(item, indent + 2)
      out.push(`${pad}- ${body[0].slice(indent + 2)}`, ...body.slice(1))
    }
    return out
  }
  for (const [k, item] of Object.entries(v as Record<string, Yaml>)) {
    const key = /^[A-Za-z_][\w.-]*$/.test(k) ? k : JSON.stringify(k)
    const inner = scalar(item)
    if (inner !== undefined) out.push(`${pad}${key}: ${inner}`)
    else out.push(`${pad}${key}:`, ...lines(item, Array.isArray(item) ? indent + 2 : indent + 2))
  }
  return out
}
