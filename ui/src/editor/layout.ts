// Automatic left-to-right layout of the canvas with dagre.
import dagre from "@dagrejs/dagre";
import type { Canvas } from "./dag";

export const NODE_W = 210;
export const NODE_H = 96;

export function autoLayout(canvas: Canvas): Canvas {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 80 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of canvas.nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
  for (const e of canvas.edges) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return { ...canvas, nodes: canvas.nodes.map((n) => {
    const p = g.node(n.id);
    return { ...n, position: { x: Math.round(p.x - NODE_W / 2), y: Math.round(p.y - NODE_H / 2) } };
  }) };
}
