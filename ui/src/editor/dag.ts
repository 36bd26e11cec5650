// The job DAG document (as `coalition job validate` reads it) <-> the editor's canvas model.
// Pure functions, no React: the round trip (YAML -> document -> canvas -> document -> YAML)
// is what the Vitest suite checks.
import { parse, stringify } from "yaml";
import type { ComponentInfo } from "../api";

export interface TaskDoc {
  component: string;
  description?: string;
  roles?: string[];
  parameters?: Record<string, unknown>;
  role_parameters?: Record<string, Record<string, unknown>>;
  party_parameters?: Record<string, Record<string, unknown>>;
  inputs?: Record<string, string>;
}

export interface DagDoc {
  version: 1;
  name: string;
  description?: string;
  parties: Record<string, string[]>;
  tasks: Record<string, TaskDoc>;
}

export interface TaskData {
  component: string;
  description?: string;
  roles?: string[];
  parameters: Record<string, unknown>;
  role_parameters: Record<string, Record<string, unknown>>;
  party_parameters: Record<string, Record<string, unknown>>;
}

export interface CanvasNode {
  id: string; // the task name
  position: { x: number; y: number };
  data: TaskData;
}

export interface CanvasEdge {
  id: string;
  source: string;
  sourceHandle: string; // output name
  target: string;
  targetHandle: string; // input name
}

export interface Canvas {
  name: string;
  description?: string;
  parties: Record<string, string[]>;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

export function edgeId(source: string, output: string, target: string, input: string): string {
  return `${source}.${output}->${target}.${input}`;
}

export function docToCanvas(doc: DagDoc, positions: Record<string, { x: number; y: number }> = {}): Canvas {
  const nodes: CanvasNode[] = [];
  const edges: CanvasEdge[] = [];
  Object.entries(doc.tasks).forEach(([name, task], i) => {
    const data: TaskData = {
      component: task.component,
      parameters: { ...(task.parameters ?? {}) },
      role_parameters: { ...(task.role_parameters ?? {}) },
      party_parameters: { ...(task.party_parameters ?? {}) },
    };
    if (task.description) data.description = task.description;
    if (task.roles) data.roles = [...task.roles];
    nodes.push({ id: name, position: positions[name] ?? { x: 0, y: i * 120 }, data });
    for (const [input, ref] of Object.entries(task.inputs ?? {})) {
      const dot = ref.indexOf(".");
      const source = ref.slice(0, dot);
      const output = ref.slice(dot + 1);
      edges.push({ id: edgeId(source, output, name, input), source, sourceHandle: output, target: name, targetHandle: input });
    }
  });
  const canvas: Canvas = { name: doc.name, parties: structuredClone(doc.parties), nodes, edges };
  if (doc.description) canvas.description = doc.description;
  return canvas;
}

const nonEmpty = (o: Record<string, unknown>): boolean => Object.keys(o).length > 0;

export function canvasToDoc(canvas: Canvas): DagDoc {
  const tasks: Record<string, TaskDoc> = {};
  for (const node of canvas.nodes) {
    const task: TaskDoc = { component: node.data.component };
    if (node.data.description) task.description = node.data.description;
    if (node.data.roles) task.roles = [...node.data.roles];
    if (nonEmpty(node.data.parameters)) task.parameters = { ...node.data.parameters };
    if (nonEmpty(node.data.role_parameters)) task.role_parameters = { ...node.data.role_parameters };
    if (nonEmpty(node.data.party_parameters)) task.party_parameters = { ...node.data.party_parameters };
    const inputs: Record<string, string> = {};
    for (const e of canvas.edges.filter((x) => x.target === node.id)) {
      inputs[e.targetHandle] = `${e.source}.${e.sourceHandle}`;
    }
    if (nonEmpty(inputs)) task.inputs = inputs;
    tasks[node.id] = task;
  }
  const doc: DagDoc = { version: 1, name: canvas.name, parties: structuredClone(canvas.parties), tasks };
  if (canvas.description) doc.description = canvas.description;
  return doc;
}

export function toYaml(doc: DagDoc): string {
  return stringify(doc);
}

/** Parse YAML/JSON text into a document; throws Error with a readable message when it is not one. */
export function fromYaml(text: string): DagDoc {
  const value: unknown = parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a mapping");
  const doc = value as Partial<DagDoc>;
  if (typeof doc.name !== "string") throw new Error("'name' is required");
  if (typeof doc.tasks !== "object" || doc.tasks === null) throw new Error("'tasks' is required");
  if (typeof doc.parties !== "object" || doc.parties === null) throw new Error("'parties' is required");
  return { ...doc, version: 1 } as DagDoc;
}

/** Typed ports: an output may feed an input only when their artifact kinds match. */
export function canWire(catalog: Map<string, ComponentInfo>, canvas: Canvas, source: string, output: string,
  target: string, input: string): boolean {
  if (source === target) return false;
  const from = componentOf(catalog, canvas, source);
  const to = componentOf(catalog, canvas, target);
  const out = from?.outputs[output];
  const inp = to?.inputs[input];
  return out !== undefined && inp !== undefined && out.kind === inp.kind && !createsCycle(canvas, source, target);
}

export function componentOf(catalog: Map<string, ComponentInfo>, canvas: Canvas, task: string): ComponentInfo | undefined {
  const node = canvas.nodes.find((n) => n.id === task);
  if (!node) return undefined;
  const ref = node.data.component;
  return catalog.get(ref) ?? catalog.get(ref.split(":")[0] ?? ref);
}

function createsCycle(canvas: Canvas, source: string, target: string): boolean {
  // adding source -> target closes a cycle when source is reachable from target
  const next = new Map<string, string[]>();
  for (const e of canvas.edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const seen = new Set<string>();
  const stack = [target];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === source) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(next.get(n) ?? []));
  }
  return false;
}

/** Connect (replacing whatever fed that input before: an input takes one upstream output). */
export function connect(canvas: Canvas, source: string, output: string, target: string, input: string): Canvas {
  const edges = canvas.edges.filter((e) => !(e.target === target && e.targetHandle === input));
  edges.push({ id: edgeId(source, output, target, input), source, sourceHandle: output, target, targetHandle: input });
  return { ...canvas, edges };
}

export function removeTask(canvas: Canvas, id: string): Canvas {
  return { ...canvas, nodes: canvas.nodes.filter((n) => n.id !== id),
    edges: canvas.edges.filter((e) => e.source !== id && e.target !== id) };
}

/** A fresh task name for a component: `psi`, `psi_2`, ... */
export function freshName(canvas: Canvas, component: string): string {
  const base = component.split(":")[0] ?? component;
  const taken = new Set(canvas.nodes.map((n) => n.id));
  if (!taken.has(base)) return base;
  let i = 2;
  while (taken.has(`${base}_${i}`)) i += 1;
  return `${base}_${i}`;
}

export function addTask(canvas: Canvas, component: ComponentInfo, position: { x: number; y: number }): [Canvas, string] {
  const id = freshName(canvas, component.name);
  const node: CanvasNode = { id, position, data: { component: component.name, parameters: {}, role_parameters: {}, party_parameters: {} } };
  return [{ ...canvas, nodes: [...canvas.nodes, node] }, id];
}

/** Every party of the job as `role:name`. */
export function partiesOf(canvas: Canvas): string[] {
  return Object.entries(canvas.parties).flatMap(([role, names]) => names.map((n) => `${role}:${n}`));
}

export function emptyCanvas(): Canvas {
  return { name: "new_job", parties: { guest: [], host: [] }, nodes: [], edges: [] };
}
