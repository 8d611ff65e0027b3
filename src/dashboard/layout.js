// Graphs laid out in columns by their distance from the nodes that have no inputs: the job graph, the lineage
// graph and a workflow's tasks share it.

/**
 * Positions of `nodes` ({ id, inputs: [ids] }): column by depth, row by order within the column, each cell
 * `dx` x `dy` pixels; the SVG's width and height.
 */
export function layered(nodes, { dx = 190, dy = 70 } = {}) {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const depth = new Map()
  const depthOf = (id) => {
    if (depth.has(id)) return depth.get(id)
    depth.set(id, 0)
    const ins = byId.get(id)?.inputs ?? []
    const d = ins.length === 0 ? 0 : 1 + Math.max(...ins.map(depthOf))
    depth.set(id, d)
    return d
  }
  for (const n of nodes) depthOf(n.id)
  const rows = new Map()
  const pos = new Map()
  for (const n of nodes) {
    const d = depth.get(n.id)
    const r = rows.get(d) ?? 0
    rows.set(d, r + 1)
    pos.set(n.id, { x: 10 + d * dx, y: 10 + r * dy })
  }
  const width = 10 + (Math.max(0, ...depth.values()) + 1) * dx
  const height = 10 + Math.max(1, ...rows.values()) * dy
  return { pos, width, height }
}

/** Lines from each input's box to the node's box, boxes `w` x `h`. */
export function edgeLines(nodes, pos, { w = 150, h = 50 } = {}) {
  return nodes
    .flatMap((n) => n.inputs.map((from) => {
      const a = pos.get(from)
      const b = pos.get(n.id)
      return a && b ? `<line x1="${a.x + w}" y1="${a.y + h / 2}" x2="${b.x}" y2="${b.y + h / 2}"/>` : ''
    }))
    .join('')
}
