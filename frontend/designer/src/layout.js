// Where connections run, and the auto-layout of a whole process (dagre, left to right).
import dagre from '@dagrejs/dagre';

// A connection leaves its source's side that faces the target and enters the target's facing side.
export function waypointsBetween(source, target) {
  const a = mid(source), b = mid(target);
  const dx = b.x - a.x, dy = b.y - a.y;
  if (Math.abs(dx) >= Math.abs(dy) * 2) {
    const sx = dx >= 0 ? source.x + source.width : source.x;
    const tx = dx >= 0 ? target.x : target.x + target.width;
    if (Math.abs(a.y - b.y) < 2) return [{ x: sx, y: a.y }, { x: tx, y: b.y }];
    const mx = Math.round((sx + tx) / 2);
    return [{ x: sx, y: a.y }, { x: mx, y: a.y }, { x: mx, y: b.y }, { x: tx, y: b.y }];
  }
  const sy = dy >= 0 ? source.y + source.height : source.y;
  const ty = dy >= 0 ? target.y : target.y + target.height;
  const my = Math.round((sy + ty) / 2);
  return [{ x: a.x, y: sy }, { x: a.x, y: my }, { x: b.x, y: my }, { x: b.x, y: ty }];
}

function mid(shape) {
  return { x: Math.round(shape.x + shape.width / 2), y: Math.round(shape.y + shape.height / 2) };
}

export function StepLayouter() {}

StepLayouter.prototype.layoutConnection = function(connection) {
  return waypointsBetween(connection.source, connection.target);
};

// Positions {id: {x, y}} (top left, as React Flow keeps them) for every node, ranked left to right.
export function autoLayout(nodes, edges, size) {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80, marginx: 20, marginy: 20 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, { width: size.width, height: size.height });
  for (const edge of edges) {
    if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.setEdge(edge.source, edge.target);
  }
  dagre.layout(graph);
  const positions = {};
  for (const id of graph.nodes()) {
    const placed = graph.node(id);
    positions[id] = { x: Math.round(placed.x - size.width / 2), y: Math.round(placed.y - size.height / 2) };
  }
  return positions;
}
