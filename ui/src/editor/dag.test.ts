import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ComponentInfo } from "../api";
import { type Canvas, addTask, canWire, canvasToDoc, connect, docToCanvas, fromYaml, removeTask, toYaml } from "./dag";
import { autoLayout } from "./layout";

const example = readFileSync(new URL("../../../examples/jobs/credit_risk.yaml", import.meta.url), "utf8");

const port = (kind: string) => ({ kind, roles: ["guest", "host"], description: "" });
const comp = (name: string, inputs: Record<string, string>, outputs: Record<string, string>): ComponentInfo => ({
  ref: `${name}:1`, name, version: "1.0.0", category: "data", description: "", roles: ["guest", "host"],
  required_roles: ["guest"], parameters: { type: "object", properties: {} },
  inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, port(v)])),
  outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, port(v)])),
});
const CATALOG = new Map<string, ComponentInfo>([
  ["reader", comp("reader", {}, { data: "dataset", metrics: "metrics" })],
  ["psi", comp("psi", { data: "dataset" }, { data: "dataset", metrics: "metrics" })],
  ["hetero_secureboost", comp("hetero_secureboost", { train_data: "dataset" }, { model: "model" })],
  ["predict", comp("predict", { model: "model", data: "dataset" }, { predictions: "dataset" })],
]);

describe("canvas <-> DAG document", () => {
  it("round-trips the example job through YAML, the canvas and back", () => {
    const doc = fromYaml(example);
    const canvas = autoLayout(docToCanvas(doc));
    const again = canvasToDoc(canvas);
    expect(again).toEqual(doc);
    expect(fromYaml(toYaml(again))).toEqual(doc);
    expect(canvas.edges.length).toBe(Object.values(doc.tasks).reduce((n, t) => n + Object.keys(t.inputs ?? {}).length, 0));
  });

  it("lays out left to right: every edge points rightwards", () => {
    const canvas = autoLayout(docToCanvas(fromYaml(example)));
    const x = new Map(canvas.nodes.map((n) => [n.id, n.position.x]));
    for (const e of canvas.edges) expect(x.get(e.source)!).toBeLessThan(x.get(e.target)!);
  });

  it("builds the same document as YAML by adding and wiring tasks", () => {
    let canvas: Canvas = { name: "j", parties: { guest: ["bank"], host: ["telco"] }, nodes: [], edges: [] };
    let id: string;
    [canvas, id] = addTask(canvas, CATALOG.get("reader")!, { x: 0, y: 0 });
    expect(id).toBe("reader");
    [canvas] = addTask(canvas, CATALOG.get("psi")!, { x: 1, y: 0 });
    canvas = connect(canvas, "reader", "data", "psi", "data");
    expect(toYaml(canvasToDoc(canvas))).toContain("data: reader.data");
    canvas = removeTask(canvas, "reader");
    expect(canvas.edges).toEqual([]);
  });

  it("refuses wiring across kinds, to itself, and cycles", () => {
    let canvas = docToCanvas({ version: 1, name: "j", parties: { guest: ["b"] }, tasks: {
      read: { component: "reader" }, psi: { component: "psi", inputs: { data: "read.data" } },
      train: { component: "hetero_secureboost" }, score: { component: "predict" } } });
    expect(canWire(CATALOG, canvas, "read", "metrics", "psi", "data")).toBe(false);
    expect(canWire(CATALOG, canvas, "psi", "data", "train", "train_data")).toBe(true);
    expect(canWire(CATALOG, canvas, "train", "model", "score", "data")).toBe(false);
    expect(canWire(CATALOG, canvas, "train", "model", "score", "model")).toBe(true);
    expect(canWire(CATALOG, canvas, "psi", "data", "psi", "data")).toBe(false);
    canvas = connect(canvas, "psi", "data", "train", "train_data");
    expect(canWire(CATALOG, canvas, "psi", "data", "read", "data")).toBe(false);
  });

  it("rejects YAML that is not a job", () => {
    expect(() => fromYaml("- a\n- b")).toThrow();
    expect(() => fromYaml("name: x\n")).toThrow(/tasks/);
  });
});

describe("the example job", () => {
  it("round-trips and wires only matching kinds", async () => {
    const { CREDIT_DEMO } = await import("./templates");
    const canvas = docToCanvas(CREDIT_DEMO);
    expect(canvasToDoc(canvas)).toEqual(CREDIT_DEMO);
    const known = (task: string) => CATALOG.has(canvas.nodes.find((n) => n.id === task)!.data.component);
    const checked = canvas.edges.filter((e) => known(e.source) && known(e.target));
    expect(checked.length).toBeGreaterThan(1);
    for (const e of checked) {
      expect(canWire(CATALOG, { ...canvas, edges: [] }, e.source, e.sourceHandle, e.target, e.targetHandle), e.id).toBe(true);
    }
  });
});
