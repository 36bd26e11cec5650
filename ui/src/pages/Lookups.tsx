// Private lookup (匿踪查询): query a partner's PIR service or verify (phone, name, ID number)
// triples at a partner's verification service from an uploaded file; publish, rebuild and
// withdraw this node's own services; the batch records of both sides (counts, never an ID).
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { del, get, post, postText } from "../api";
import { flagCounts, idsAsCsv, saveText, toCsv, type Flags } from "../lookups";
import { ErrorBox, Page, StateBadge, Table, when } from "../ui";

interface PirService { id: string; name: string; dataset: string; id_column: string; columns: string[];
  modes: string[]; rows: number; epoch: string; version: number; quota_per_partner: number | null;
  next_rebuild_at: string | null }
interface PirBatch { id: number; side: string; service: string; partner: string; mode: string;
  queries: number | null; found: number | null; state: string; seconds: number | null; at: string }
interface PirAnswer { rows: Record<string, unknown>[]; batch: PirBatch }
interface Verify3Service { name: string; dataset: string; rows: number; epoch: string; suite: string;
  quota: number | null; built_at: string }
interface Verify3Batch { id: number; side: string; partner: string; service: string; elements: number;
  triples: number | null; at: string }
interface Verify3Answer { results: Flags[]; summary: Record<string, string | number> }

const q = (params: Record<string, string>) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "")).toString();

async function fileText(input: HTMLInputElement | null): Promise<string | null> {
  const file = input?.files?.[0];
  return file ? await file.text() : null;
}

function PirQuery() {
  const { t } = useTranslation();
  const [form, setForm] = useState({ partner: "", service: "", column: "", mode: "", ids: "" });
  const [answer, setAnswer] = useState<PirAnswer | null>(null);
  const run = useMutation({
    mutationFn: async (file: HTMLInputElement | null) => {
      const text = (await fileText(file)) ?? idsAsCsv(form.ids, form.column || "id");
      return postText<PirAnswer>(`/pir/query/file?${q({ partner: form.partner, service: form.service,
        column: form.column, mode: form.mode })}`, text);
    },
    onSuccess: setAnswer,
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    run.mutate(e.currentTarget.querySelector<HTMLInputElement>("input[type=file]"));
  };
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  return (
    <>
      <h2>{t("lookups.pirQuery")}</h2>
      <p className="muted">{t("lookups.pirHelp")}</p>
      <form className="grid-form" onSubmit={submit} aria-label={t("lookups.pirQuery")}>
        <label>{t("lookups.partner")}<input name="pir-partner" value={form.partner} onChange={set("partner")} required /></label>
        <label>{t("lookups.service")}<input name="pir-service" value={form.service} onChange={set("service")} required /></label>
        <label>{t("lookups.column")}<input name="pir-column" value={form.column} onChange={set("column")} placeholder="id" /></label>
        <label>{t("lookups.mode")}
          <select name="pir-mode" value={form.mode} onChange={set("mode")}>
            <option value="">{t("lookups.defaultMode")}</option>
            {["download", "bucketed", "ot_decoys"].map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </label>
        <label>{t("lookups.idFile")}<input type="file" name="pir-file" accept=".csv,text/csv" /></label>
        <label>{t("lookups.idsTyped")}<textarea name="pir-ids" rows={3} value={form.ids} onChange={set("ids")} /></label>
        <button type="submit" disabled={run.isPending}>{t("lookups.lookUp")}</button>
      </form>
      <ErrorBox error={run.error} />
      {answer && (
        <div className="detail">
          <p>{t("lookups.pirSummary", { found: answer.batch.found ?? 0, queries: answer.batch.queries ?? 0,
            seconds: answer.batch.seconds?.toFixed(2) ?? "—" })}</p>
          <button type="button" onClick={() => saveText(toCsv(answer.rows), "pir.csv")}>{t("lookups.exportCsv")}</button>
          <Table label={t("lookups.results")} rows={answer.rows.slice(0, 200)} rowKey={(r) => JSON.stringify(r)}
            cols={answer.rows[0] ? Object.keys(answer.rows[0]).map((c) => ({ key: c, label: c })) : []} />
        </div>
      )}
    </>
  );
}

function Verify3Query() {
  const { t } = useTranslation();
  const [form, setForm] = useState({ partner: "", service: "", phone_column: "phone", name_column: "name",
    id_number_column: "id_number" });
  const [answer, setAnswer] = useState<Verify3Answer | null>(null);
  const run = useMutation({
    mutationFn: async (file: HTMLInputElement | null) => {
      const text = await fileText(file);
      if (text === null) throw new Error(t("lookups.chooseFile"));
      return postText<Verify3Answer>(`/verify3/query/file?${q({ ...form })}`, text);
    },
    onSuccess: setAnswer,
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    run.mutate(e.currentTarget.querySelector<HTMLInputElement>("input[type=file]"));
  };
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  const counts = answer ? flagCounts(answer.results) : null;
  const yes = (v: boolean) => (v ? t("common.yes") : t("common.no"));
  return (
    <>
      <h2>{t("lookups.verifyQuery")}</h2>
      <p className="muted">{t("lookups.verifyHelp")}</p>
      <form className="grid-form" onSubmit={submit} aria-label={t("lookups.verifyQuery")}>
        <label>{t("lookups.partner")}<input name="v3-partner" value={form.partner} onChange={set("partner")} required /></label>
        <label>{t("lookups.service")}<input name="v3-service" value={form.service} onChange={set("service")} required /></label>
        <label>{t("lookups.phoneColumn")}<input name="v3-phone" value={form.phone_column} onChange={set("phone_column")} /></label>
        <label>{t("lookups.nameColumn")}<input name="v3-name" value={form.name_column} onChange={set("name_column")} /></label>
        <label>{t("lookups.idNumberColumn")}<input name="v3-idno" value={form.id_number_column} onChange={set("id_number_column")} /></label>
        <label>{t("lookups.tripleFile")}<input type="file" name="v3-file" accept=".csv,text/csv" required /></label>
        <button type="submit" disabled={run.isPending}>{t("lookups.verify")}</button>
      </form>
      <ErrorBox error={run.error} />
      {answer && counts && (
        <div className="detail">
          <p>{t("lookups.verifySummary", { triples: answer.results.length, ...counts })}</p>
          <button type="button" onClick={() => saveText(toCsv(answer.results.map((r, i) => ({ row: i + 1, ...r }))),
            "verify3.csv")}>{t("lookups.exportCsv")}</button>
          <Table label={t("lookups.results")} rows={answer.results.slice(0, 200).map((r, i) => ({ row: i + 1, ...r }))}
            rowKey={(r) => String(r.row)} cols={[
              { key: "row", label: "#" },
              { key: "phone_found", label: t("lookups.phoneFound"), render: (r) => yes(r.phone_found) },
              { key: "name_match", label: t("lookups.nameMatch"), render: (r) => yes(r.name_match) },
              { key: "id_match", label: t("lookups.idMatch"), render: (r) => yes(r.id_match) },
            ]} />
        </div>
      )}
    </>
  );
}

const PIR_EMPTY = { name: "", dataset: "", id_column: "id", columns: "", quota: "" };
const V3_EMPTY = { name: "", dataset: "", phone_column: "phone", name_column: "name", id_number_column: "id_number" };

function MyServices() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const pir = useQuery({ queryKey: ["pir-services"], queryFn: () => get<PirService[]>("/pir/services") });
  const v3 = useQuery({ queryKey: ["v3-services"], queryFn: () => get<Verify3Service[]>("/verify3/services") });
  const refresh = () => { for (const k of ["pir-services", "v3-services"]) void client.invalidateQueries({ queryKey: [k] }); };
  const act = useMutation({
    mutationFn: ({ path, method }: { path: string; method?: "DELETE" }) => (method === "DELETE" ? del(path) : post(path)),
    onSettled: refresh,
  });
  const [pirForm, setPirForm] = useState(PIR_EMPTY);
  const [modes, setModes] = useState<string[]>(["download"]);
  const [v3Form, setV3Form] = useState(V3_EMPTY);
  const publishPir = useMutation({
    mutationFn: () => post("/pir/services", { name: pirForm.name, dataset: pirForm.dataset, id_column: pirForm.id_column,
      columns: pirForm.columns.split(",").map((c) => c.trim()).filter(Boolean), modes,
      quota_per_partner: pirForm.quota ? Number(pirForm.quota) : null }),
    onSuccess: () => { setPirForm(PIR_EMPTY); refresh(); },
  });
  const publishV3 = useMutation({
    mutationFn: () => post("/verify3/services", v3Form),
    onSuccess: () => { setV3Form(V3_EMPTY); refresh(); },
  });
  const withdraw = (path: string, name: string) => {
    if (window.confirm(t("lookups.confirmWithdraw", { name }))) act.mutate({ path, method: "DELETE" });
  };
  return (
    <>
      <h2>{t("lookups.myPir")}</h2>
      <ErrorBox error={pir.error ?? act.error} />
      <Table label={t("lookups.myPir")} rows={pir.data} rowKey={(s) => s.id} cols={[
        { key: "name", label: t("common.name") },
        { key: "dataset", label: t("lookups.dataset"), render: (s) => `${s.dataset} (${s.id_column} → ${s.columns.join(", ")})` },
        { key: "modes", label: t("lookups.modes"), render: (s) => s.modes.join(", ") },
        { key: "rows", label: t("lookups.rows") },
        { key: "version", label: t("lookups.version"), render: (s) => `${s.epoch.slice(0, 8)} · v${s.version}` },
        { key: "quota", label: t("lookups.quota"), render: (s) => s.quota_per_partner ?? "—" },
        { key: "next", label: t("lookups.nextRebuild"), render: (s) => when(s.next_rebuild_at) },
        { key: "act", label: t("common.actions"), render: (s) => (
          <div className="row">
            <button type="button" onClick={() => act.mutate({ path: `/pir/services/${s.id}/rebuild` })}>{t("lookups.rebuild")}</button>
            <button type="button" onClick={() => act.mutate({ path: `/pir/services/${s.id}/rebuild?rotate=true` })}>{t("lookups.rotate")}</button>
            <button type="button" className="danger" onClick={() => withdraw(`/pir/services/${s.id}`, s.name)}>{t("lookups.withdraw")}</button>
          </div>) },
      ]} />
      <form className="grid-form" aria-label={t("lookups.publishPir")}
        onSubmit={(e) => { e.preventDefault(); publishPir.mutate(); }}>
        <label>{t("common.name")}<input name="pub-name" value={pirForm.name} onChange={(e) => setPirForm({ ...pirForm, name: e.target.value })} required /></label>
        <label>{t("lookups.dataset")}<input name="pub-dataset" value={pirForm.dataset} onChange={(e) => setPirForm({ ...pirForm, dataset: e.target.value })} required /></label>
        <label>{t("lookups.column")}<input name="pub-id" value={pirForm.id_column} onChange={(e) => setPirForm({ ...pirForm, id_column: e.target.value })} /></label>
        <label>{t("lookups.payload")}<input name="pub-columns" value={pirForm.columns} placeholder="risk, tag" onChange={(e) => setPirForm({ ...pirForm, columns: e.target.value })} required /></label>
        <fieldset><legend>{t("lookups.modes")}</legend>
          {["download", "bucketed", "ot_decoys"].map((m) => (
            <label key={m} className="inline"><input type="checkbox" checked={modes.includes(m)}
              onChange={(e) => setModes(e.target.checked ? [...modes, m] : modes.filter((x) => x !== m))} /> {m}</label>))}
        </fieldset>
        <label>{t("lookups.quota")}<input name="pub-quota" type="number" min={0} value={pirForm.quota} onChange={(e) => setPirForm({ ...pirForm, quota: e.target.value })} /></label>
        <button type="submit" disabled={publishPir.isPending}>{t("lookups.publishPir")}</button>
      </form>
      <ErrorBox error={publishPir.error} />
      <h2>{t("lookups.myVerify")}</h2>
      <ErrorBox error={v3.error} />
      <Table label={t("lookups.myVerify")} rows={v3.data} rowKey={(s) => s.name} cols={[
        { key: "name", label: t("common.name") },
        { key: "dataset", label: t("lookups.dataset") },
        { key: "rows", label: t("lookups.rows") },
        { key: "suite", label: t("lookups.suite") },
        { key: "built", label: t("lookups.built"), render: (s) => when(s.built_at) },
        { key: "act", label: t("common.actions"), render: (s) => (
          <div className="row">
            <button type="button" onClick={() => act.mutate({ path: `/verify3/services/${s.name}/rebuild` })}>{t("lookups.rotate")}</button>
            <button type="button" className="danger" onClick={() => withdraw(`/verify3/services/${s.name}`, s.name)}>{t("lookups.withdraw")}</button>
          </div>) },
      ]} />
      <form className="grid-form" aria-label={t("lookups.publishVerify")}
        onSubmit={(e) => { e.preventDefault(); publishV3.mutate(); }}>
        {(Object.keys(V3_EMPTY) as (keyof typeof V3_EMPTY)[]).map((k) => (
          <label key={k}>{t(`lookups.v3_${k}`)}<input name={`v3pub-${k}`} value={v3Form[k]} required
            onChange={(e) => setV3Form({ ...v3Form, [k]: e.target.value })} /></label>))}
        <button type="submit" disabled={publishV3.isPending}>{t("lookups.publishVerify")}</button>
      </form>
      <ErrorBox error={publishV3.error} />
    </>
  );
}

function Records() {
  const { t } = useTranslation();
  const pir = useQuery({ queryKey: ["pir-batches"], queryFn: () => get<PirBatch[]>("/pir/batches"), refetchInterval: 5000 });
  const v3 = useQuery({ queryKey: ["v3-batches"], queryFn: () => get<Verify3Batch[]>("/verify3/batches"), refetchInterval: 5000 });
  return (
    <>
      <h2>{t("lookups.records")}</h2>
      <p className="muted">{t("lookups.recordsHelp")}</p>
      <ErrorBox error={pir.error ?? v3.error} />
      <Table label={t("lookups.pirRecords")} rows={pir.data} rowKey={(b) => String(b.id)} cols={[
        { key: "at", label: t("lookups.at"), render: (b) => when(b.at) },
        { key: "side", label: t("lookups.side") },
        { key: "partner", label: t("lookups.partner") },
        { key: "service", label: t("lookups.service") },
        { key: "mode", label: t("lookups.mode") },
        { key: "queries", label: t("lookups.queries"), render: (b) => `${b.found ?? "—"} / ${b.queries ?? "—"}` },
        { key: "state", label: t("common.state"), render: (b) => <StateBadge state={b.state} /> },
        { key: "seconds", label: t("monitor.seconds"), render: (b) => b.seconds?.toFixed(2) ?? "—" },
      ]} />
      <Table label={t("lookups.verifyRecords")} rows={v3.data} rowKey={(b) => String(b.id)} cols={[
        { key: "at", label: t("lookups.at"), render: (b) => when(b.at) },
        { key: "side", label: t("lookups.side") },
        { key: "partner", label: t("lookups.partner") },
        { key: "service", label: t("lookups.service") },
        { key: "triples", label: t("lookups.triples"), render: (b) => b.triples ?? "—" },
        { key: "elements", label: t("lookups.elements") },
      ]} />
    </>
  );
}

export function Lookups() {
  const { t } = useTranslation();
  return (
    <Page title={t("lookups.title")}>
      <PirQuery />
      <Verify3Query />
      <MyServices />
      <Records />
    </Page>
  );
}
