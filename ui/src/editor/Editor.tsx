// The job editor: palette by category, canvas with typed ports, generated parameter forms,
// undo/redo, drafts, parties and sites, server validation, YAML in sync, run all/from/only.
import { useCallback, useEffect, useMemo, useState } from "react";
import {
  Background, Controls, ReactFlow, ReactFlowProvider, useReactFlow,
  type Connection, type Edge, type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import Form from "@rjsf/core";
import validator from "@rjsf/validator-ajv8";
import type { ErrorSchema, RJSFSchema } from "@rjsf/utils";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, get, post, type ComponentInfo, type DagProblem, type Job, type NodeInfo, type Validation } from "../api";
import {
  addTask, canWire, canvasToDoc, componentOf, connect, docToCanvas, emptyCanvas, fromYaml,
  partiesOf, removeTask, toYaml, type Canvas,
} from "./dag";
import { listDrafts, rememberSubmitted, saveDraft, submittedDag } from "./drafts";
import { cloneSource } from "../jobs";
import { errorSchemaFor, formFor, otherProblems, withoutDefaults } from "./forms";
import { autoLayout } from "./layout";
import { CREDIT_DEMO } from "./templates";
import { TemplateDialog } from "./TemplateDialog";
import { TaskNode, type TaskFlowNode } from "./TaskNode";

const NODE_TYPES = { task: TaskNode };
const DRAG_TYPE = "application/coalition-component";
const CATEGORY_ORDER = ["data", "vertical", "horizontal", "scoring", "other"];

interface History { past: Canvas[]; present: Canvas; future: Canvas[] }

function useHistory(initial: Canvas) {
  const [h, setH] = useState<History>({ past: [], present: initial, future: [] });
  const set = useCallback((next: Canvas | ((c: Canvas) => Canvas), record = true) => {
    setH((cur) => {
      const value = typeof next === "function" ? next(cur.present) : next;
      return record ? { past: [...cur.past, cur.present].slice(-100), present: value, future: [] }
        : { ...cur, present: value };
    });
  }, []);
  const undo = useCallback(() => setH((cur) => cur.past.length === 0 ? cur : {
    past: cur.past.slice(0, -1), present: cur.past[cur.past.length - 1]!, future: [cur.present, ...cur.future] }), []);
  const redo = useCallback(() => setH((cur) => cur.future.length === 0 ? cur : {
    past: [...cur.past, cur.present], present: cur.future[0]!, future: cur.future.slice(1) }), []);
  return { canvas: h.present, set, undo, redo, canUndo: h.past.length > 0, canRedo: h.future.length > 0 };
}

function JsonField({ label, value, onApply }: { label: string; value: unknown; onApply: (v: Record<string, Record<string, unknown>>) => void }) {
  const [text, setText] = useState(JSON.stringify(value, null, 1));
  const [bad, setBad] = useState(false);
  useEffect(() => setText(JSON.stringify(value, null, 1)), [value]);
  return (
    <label>{label}
      <textarea rows={4} value={text} aria-label={label} aria-invalid={bad} onChange={(e) => setText(e.target.value)}
        onBlur={() => {
          try { onApply(JSON.parse(text) as Record<string, Record<string, unknown>>); setBad(false); } catch { setBad(true); }
        }} />
    </label>
  );
}

function EditorInner() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const flow = useReactFlow();
  const catalogQ = useQuery({ queryKey: ["components"], queryFn: () => get<ComponentInfo[]>("/components") });
  const node = useQuery({ queryKey: ["node"], queryFn: () => get<NodeInfo>("/node") });
  const catalog = useMemo(() => new Map((catalogQ.data ?? []).flatMap((c) => [[c.name, c], [c.ref, c]] as [string, ComponentInfo][])), [catalogQ.data]);
  const { canvas, set, undo, redo, canUndo, canRedo } = useHistory(emptyCanvas());
  const [selected, setSelected] = useState<string | null>(null);
  const [problems, setProblems] = useState<DagProblem[] | null>(null);
  const [sites, setSites] = useState<Record<string, string>>({});
  const [yamlText, setYamlText] = useState("");
  const [yamlFocus, setYamlFocus] = useState(false);
  const [yamlError, setYamlError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [choosing, setChoosing] = useState(false);
  const doc = useMemo(() => canvasToDoc(canvas), [canvas]);
  const [fitTick, setFitTick] = useState(0);
  const fit = useCallback(() => setFitTick((n) => n + 1), []);

  const cloneId = params.get("clone");
  // ``?example=1`` (the overview's "getting started" link): open with the example job.
  useEffect(() => {
    if (params.get("example")) { set(autoLayout(docToCanvas(CREDIT_DEMO)), false); fit(); }
  }, [params, set, fit]);
  // Clone any job this node knows: its document as the node holds it (job detail ``dag``).
  const cloned = useQuery({ queryKey: ["job", cloneId], enabled: Boolean(cloneId),
    queryFn: () => get<Job>(`/jobs/${cloneId}`) });
  useEffect(() => {
    const source = cloned.data ? cloneSource(cloned.data) : null;
    const local = cloneId && !source && cloned.isError ? submittedDag(cloneId) : null;
    if (source) { set(autoLayout(docToCanvas(source.doc)), false); setSites(source.sites); fit(); }
    else if (local) { set(autoLayout(docToCanvas(local)), false); fit(); }
    else if (!cloneId && node.data) {
      // Functional: the example (``?example=1``) may have filled the canvas in this same commit.
      const name = node.data.name;
      set((cur) => cur.nodes.length === 0 && cur.parties["guest"]?.length === 0
        ? { ...cur, parties: { ...cur.parties, guest: [name] } } : cur, false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cloneId, cloned.data, cloned.isError, node.data]);
  useEffect(() => { if (!yamlFocus) setYamlText(toYaml(doc)); }, [doc, yamlFocus]);
  useEffect(() => {
    const keys = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { e.preventDefault(); if (e.shiftKey) redo(); else undo(); }
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "y") { e.preventDefault(); redo(); }
    };
    window.addEventListener("keydown", keys);
    return () => window.removeEventListener("keydown", keys);
  }, [undo, redo]);

  const counts = useMemo(() => {
    const m = new Map<string, number>();
    for (const p of problems ?? []) if (p.task) m.set(p.task, (m.get(p.task) ?? 0) + 1);
    return m;
  }, [problems]);
  const nodes: TaskFlowNode[] = canvas.nodes.map((n) => ({
    id: n.id, type: "task", position: n.position, selected: n.id === selected,
    data: { task: n.id, component: n.data.component, info: componentOf(catalog, canvas, n.id), problems: counts.get(n.id) ?? 0 },
  }));
  const edges: Edge[] = canvas.edges.map((e) => ({ id: e.id, source: e.source, sourceHandle: e.sourceHandle,
    target: e.target, targetHandle: e.targetHandle, label: e.sourceHandle }));

  const onNodesChange = (changes: NodeChange<TaskFlowNode>[]) => {
    for (const c of changes) {
      if (c.type === "position" && c.position) {
        const pos = c.position;
        set((cur) => ({ ...cur, nodes: cur.nodes.map((n) => n.id === c.id ? { ...n, position: pos } : n) }), !c.dragging);
      } else if (c.type === "position" && c.dragging === false) {
        set((cur) => cur, true);
      } else if (c.type === "select") {
        if (c.selected) setSelected(c.id);
        else setSelected((s) => (s === c.id ? null : s));
      } else if (c.type === "remove") {
        set((cur) => removeTask(cur, c.id));
        setSelected(null);
      }
    }
  };
  const onEdgesDelete = (removed: Edge[]) => {
    const ids = new Set(removed.map((e) => e.id));
    set((cur) => ({ ...cur, edges: cur.edges.filter((e) => !ids.has(e.id)) }));
  };
  const isValid = (c: Connection | Edge) => Boolean(c.source && c.target && c.sourceHandle && c.targetHandle
    && canWire(catalog, canvas, c.source, c.sourceHandle, c.target, c.targetHandle));
  const onConnect = (c: Connection) => {
    if (!c.sourceHandle || !c.targetHandle) return;
    if (!isValid(c)) {
      setStatus(t("editor.wrongKind", { from: `${c.source}.${c.sourceHandle}`, to: `${c.target}.${c.targetHandle}` }));
      return;
    }
    set((cur) => connect(cur, c.source, c.sourceHandle!, c.target, c.targetHandle!));
  };
  const add = (info: ComponentInfo, position?: { x: number; y: number }) => {
    const at = position ?? { x: 40 + (canvas.nodes.length % 4) * 250, y: 40 + Math.floor(canvas.nodes.length / 4) * 160 };
    const [next, id] = addTask(canvas, info, at);
    set(next);
    setSelected(id);
  };
  const onDrop = (e: React.DragEvent) => {
    e.preventDefault();
    const ref = e.dataTransfer.getData(DRAG_TYPE);
    const info = catalog.get(ref);
    if (info) add(info, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
  };

  const validate = async (): Promise<boolean> => {
    setBusy(true);
    try {
      const v = await post<Validation>("/dags/validate", doc);
      setProblems(v.problems);
      setStatus(v.valid ? t("editor.valid") : null);
      return v.valid;
    } catch (err) {
      setStatus(err instanceof Error ? err.message : String(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const run = async (mode: "all" | "from" | "only") => {
    if (!(await validate())) return;
    const selection = mode === "all" || !selected ? {} : mode === "from" ? { from: selected } : { only: selected };
    try {
      const sitesOut = Object.fromEntries(Object.entries(sites).filter(([p, org]) => org && partiesOf(canvas).includes(p)));
      const job = await post<Job>("/jobs", { dag: doc, sites: sitesOut, ...selection });
      rememberSubmitted(job.id, doc);
      navigate(`/jobs/${job.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.errors.length) {
        setProblems(err.errors.map((e) => {
          const path = e.path ?? (e.loc ?? []).join(".");
          const parts = path.split(".");
          return { path, task: parts[0] === "tasks" ? parts[1] ?? null : null, message: e.message ?? e.msg ?? "" };
        }));
      }
      setStatus(err instanceof Error ? err.message : String(err));
    }
  };

  const sel = canvas.nodes.find((n) => n.id === selected);
  const selInfo = sel ? componentOf(catalog, canvas, sel.id) : undefined;
  const spec = selInfo ? formFor(selInfo) : null;
  const updateSel = (patch: Partial<Canvas["nodes"][number]["data"]>) => set((cur) => ({ ...cur,
    nodes: cur.nodes.map((n) => n.id === selected ? { ...n, data: { ...n.data, ...patch } } : n) }));
  const rename = (name: string) => {
    if (!sel || !name || name === sel.id || canvas.nodes.some((n) => n.id === name)) return;
    set((cur) => ({ ...cur,
      nodes: cur.nodes.map((n) => n.id === sel.id ? { ...n, id: name } : n),
      edges: cur.edges.map((e) => ({ ...e, source: e.source === sel.id ? name : e.source,
        target: e.target === sel.id ? name : e.target, id: e.id.split(sel.id + ".").join(name + ".") })) }));
    setSelected(name);
  };
  const upstreamOptions = (input: string) => canvas.nodes.flatMap((n) => Object.keys(componentOf(catalog, canvas, n.id)?.outputs ?? {})
    .filter((o) => sel && canWire(catalog, canvas, n.id, o, sel.id, input)).map((o) => `${n.id}.${o}`));
  const wiredTo = (input: string) => {
    const e = canvas.edges.find((x) => x.target === selected && x.targetHandle === input);
    return e ? `${e.source}.${e.sourceHandle}` : "";
  };
  const wire = (input: string, ref: string) => {
    if (!sel) return;
    if (!ref) { set((cur) => ({ ...cur, edges: cur.edges.filter((e) => !(e.target === sel.id && e.targetHandle === input)) })); return; }
    const [source, output] = [ref.slice(0, ref.indexOf(".")), ref.slice(ref.indexOf(".") + 1)];
    set((cur) => connect(cur, source, output, sel.id, input));
  };
  const byCategory = CATEGORY_ORDER.map((cat) => [cat, (catalogQ.data ?? []).filter((c) => (CATEGORY_ORDER.includes(c.category) ? c.category : "other") === cat)] as const);
  const drafts = listDrafts();

  return (
    <div className="editor">
      <div className="toolbar" role="toolbar" aria-label={t("editor.title")}>
        <label>{t("editor.jobName")} <input value={canvas.name} onChange={(e) => set({ ...canvas, name: e.target.value }, false)} /></label>
        <button type="button" onClick={() => { set(autoLayout(canvas)); fit(); }}>{t("editor.layout")}</button>
        <button type="button" onClick={undo} disabled={!canUndo}>{t("editor.undo")}</button>
        <button type="button" onClick={redo} disabled={!canRedo}>{t("editor.redo")}</button>
        <button type="button" onClick={() => { saveDraft({ name: canvas.name, savedAt: new Date().toISOString(), doc,
          positions: Object.fromEntries(canvas.nodes.map((n) => [n.id, n.position])) }); setStatus(t("editor.saveDraft") + " ✓"); }}>{t("editor.saveDraft")}</button>
        {drafts.length > 0 && (
          <select aria-label={t("editor.drafts")} value="" onChange={(e) => {
            const d = drafts.find((x) => x.name === e.target.value);
            if (d) { set(docToCanvas(d.doc, d.positions)); fit(); }
          }}>
            <option value="">{t("editor.drafts")}…</option>
            {drafts.map((d) => <option key={d.name} value={d.name}>{d.name}</option>)}
          </select>)}
        <button type="button" onClick={() => { set(autoLayout(docToCanvas(CREDIT_DEMO))); fit(); }}>{t("editor.example")}</button>
        <button type="button" onClick={() => setChoosing(true)}>{t("templates.open")}</button>
        <button type="button" onClick={() => void validate()} disabled={busy}>{t("editor.validate")}</button>
        <span className="spacer" />
        <button type="button" className="primary" onClick={() => void run("all")}>{t("editor.runAll")}</button>
        <button type="button" onClick={() => void run("from")} disabled={!selected}>{t("editor.runFrom")}</button>
        <button type="button" onClick={() => void run("only")} disabled={!selected}>{t("editor.runOnly")}</button>
      </div>
      {status && <p role="status" className="status">{status}</p>}
      {choosing && <TemplateDialog onClose={() => setChoosing(false)} onLoad={(loaded) => {
        set(autoLayout(docToCanvas(loaded))); setSites({}); setProblems(null); setSelected(null); setChoosing(false); fit();
      }} />}
      <div className="editor-body">
        <aside className="palette" aria-label={t("editor.palette")}>
          <h2>{t("editor.palette")}</h2>
          <p className="muted small">{t("editor.addHint")}</p>
          {byCategory.filter(([, items]) => items.length).map(([cat, items]) => (
            <div key={cat}>
              <h3>{t(`editor.categories.${cat}`)}</h3>
              {items.map((c) => (
                <button key={c.ref} type="button" className="palette-item" draggable title={c.description}
                  data-component={c.name}
                  onDragStart={(e) => { e.dataTransfer.setData(DRAG_TYPE, c.ref); e.dataTransfer.effectAllowed = "move"; }}
                  onClick={() => add(c)}>
                  {c.name}<small>{c.roles.join(" · ")}</small>
                </button>
              ))}
            </div>
          ))}
          <h2>{t("editor.parties")}</h2>
          <p className="muted small">{t("editor.partiesHelp")}</p>
          {["guest", "host", "arbiter"].map((role) => (
            <label key={role}>{role}
              <input name={`parties-${role}`} value={(canvas.parties[role] ?? []).join(", ")} onChange={(e) => {
                const names = e.target.value.split(",").map((s) => s.trim()).filter(Boolean);
                const parties = { ...canvas.parties, [role]: names };
                if (!names.length && role === "arbiter") delete parties[role];
                set({ ...canvas, parties }, false);
              }} />
            </label>))}
          <h3>{t("editor.sites")}</h3>
          {partiesOf(canvas).map((p) => (
            <label key={p}>{p}
              <input value={sites[p] ?? ""} placeholder={p.split(":")[1]} onChange={(e) => setSites({ ...sites, [p]: e.target.value })} />
            </label>))}
        </aside>
        <div className="canvas" onDrop={onDrop} onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = "move"; }}
          aria-label={t("editor.canvas")} role="region">
          {/* remounted after a layout so that its fitView frames the measured nodes */}
          <ReactFlow key={fitTick} fitView fitViewOptions={{ padding: 0.15, maxZoom: 1 }} minZoom={0.2} nodes={nodes} edges={edges} nodeTypes={NODE_TYPES} onNodesChange={onNodesChange}
            onEdgesDelete={onEdgesDelete} onConnect={onConnect} isValidConnection={isValid}
            deleteKeyCode={["Delete", "Backspace"]} proOptions={{ hideAttribution: true }}>
            <Background />
            <Controls />
          </ReactFlow>
          <p className="muted small kbd-hint">{t("editor.keyboard")}</p>
        </div>
        <aside className="inspector" aria-label={t("editor.properties")}>
          <h2>{t("editor.properties")}</h2>
          {!sel && <p className="muted">{t("editor.noSelection")}</p>}
          {sel && (
            <div key={sel.id}>
              <label>{t("editor.taskName")}
                <input name="task-name" defaultValue={sel.id} onBlur={(e) => rename(e.target.value.trim())} /></label>
              <p>{t("editor.component")}: <strong>{sel.data.component}</strong> — {selInfo?.description}</p>
              <fieldset>
                <legend>{t("editor.roles")}</legend>
                {(selInfo?.roles ?? []).map((r) => (
                  <label key={r} className="inline">
                    <input type="checkbox" checked={(sel.data.roles ?? selInfo?.roles ?? []).includes(r)} onChange={(e) => {
                      const cur = sel.data.roles ?? selInfo?.roles ?? [];
                      const next = e.target.checked ? [...cur, r] : cur.filter((x) => x !== r);
                      const roles = next.length === (selInfo?.roles.length ?? 0) ? undefined : next;
                      const { roles: _, ...rest } = sel.data;
                      set((c) => ({ ...c, nodes: c.nodes.map((n) => n.id === sel.id ? { ...n, data: roles ? { ...rest, roles } : rest } : n) }));
                    }} /> {r}
                  </label>))}
              </fieldset>
              <fieldset>
                <legend>{t("editor.inputs")}</legend>
                {Object.entries(selInfo?.inputs ?? {}).map(([name, port]) => (
                  <label key={name}>{name} <small>({port.kind}{port.optional ? ", optional" : ""})</small>
                    <select aria-label={`${t("editor.inputs")} ${name}`} value={wiredTo(name)} onChange={(e) => wire(name, e.target.value)}>
                      <option value="">{t("editor.unwired")}</option>
                      {upstreamOptions(name).map((o) => <option key={o} value={o}>{o}</option>)}
                    </select>
                  </label>))}
              </fieldset>
              <p className="small">{t("editor.outputs")}: {Object.entries(selInfo?.outputs ?? {}).map(([n, p]) => `${n} (${p.kind})`).join(", ")}</p>
              {spec && (
                <div className="params" aria-label={t("editor.parameters")}>
                  <h3>{t("editor.parameters")}</h3>
                  <Form schema={spec.schema as RJSFSchema} uiSchema={spec.uiSchema} validator={validator}
                    formData={sel.data.parameters} showErrorList={false}
                    extraErrors={errorSchemaFor(problems ?? [], sel.id) as ErrorSchema}
                    onChange={(e) => updateSel({ parameters: withoutDefaults(spec.schema, (e.formData ?? {}) as Record<string, unknown>, spec.optional) })} />
                </div>)}
              <JsonField label="role_parameters (JSON)" value={sel.data.role_parameters} onApply={(v) => updateSel({ role_parameters: v })} />
              <JsonField label={t("editor.partyParameters")} value={sel.data.party_parameters} onApply={(v) => updateSel({ party_parameters: v })} />
              <button type="button" className="danger" onClick={() => { set((c) => removeTask(c, sel.id)); setSelected(null); }}>{t("editor.deleteTask")}</button>
            </div>)}
          <h2>{t("editor.problems")}</h2>
          {problems === null ? <p className="muted">—</p> : problems.length === 0 ? <p className="ok">{t("editor.valid")}</p> : (
            <ul className="problems" aria-label={t("editor.problems")}>
              {(selected ? [...problems.filter((p) => p.task === selected), ...otherProblems(problems).filter((p) => p.task !== selected)] : problems).map((p, i) => (
                <li key={i}><button type="button" className="link" onClick={() => p.task && setSelected(p.task)}>{p.path}</button>: {p.message}</li>))}
            </ul>)}
          <h2>{t("editor.yaml")}</h2>
          <textarea className="yaml" aria-label={t("editor.yaml")} rows={16} value={yamlText}
            onFocus={() => setYamlFocus(true)} onBlur={() => setYamlFocus(false)}
            onChange={(e) => {
              setYamlText(e.target.value);
              try {
                const next = fromYaml(e.target.value);
                const positions = Object.fromEntries(canvas.nodes.map((n) => [n.id, n.position]));
                const fresh = docToCanvas(next, positions);
                const added = Object.keys(next.tasks).some((k) => !positions[k]);
                set(added ? autoLayout(fresh) : fresh);
                if (added) fit();
                setYamlError(null);
              } catch (err) {
                setYamlError(t("editor.yamlInvalid", { message: err instanceof Error ? err.message : String(err) }));
              }
            }} />
          {yamlError && <p role="alert" className="error">{yamlError}</p>}
        </aside>
      </div>
    </div>
  );
}

export default function Editor() {
  return <ReactFlowProvider><EditorInner /></ReactFlowProvider>;
}
