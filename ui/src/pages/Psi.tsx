// PSI tasks with partners (the node's /psi): save a task, run it now or on a schedule, follow
// its run records, preview and download a result (datasets.preview; every download audited).
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { del, download, get, post, type PsiRun, type PsiSchedule, type PsiTask } from "../api";
import { ErrorBox, Page, StateBadge, Table, when } from "../ui";

const EMPTY = { name: "", dataset: "", key_column: "id", partner: "", partner_dataset: "",
  partner_key_column: "", protocol: "auto" };

function Preview({ run }: { run: number }) {
  const { t } = useTranslation();
  const rows = useQuery({ queryKey: ["psi-preview", run],
    queryFn: () => get<{ rows: Record<string, unknown>[] }>(`/psi/runs/${run}/preview`) });
  const data = rows.data?.rows;
  return (
    <div className="detail">
      <h3>{t("psi.preview")} #{run}</h3>
      <ErrorBox error={rows.error} />
      <Table label={`${t("psi.preview")} #${run}`} rows={data} rowKey={(r) => JSON.stringify(r)}
        cols={data?.[0] ? Object.keys(data[0]).map((c) => ({ key: c, label: c })) : []} />
    </div>
  );
}

export function Psi() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [form, setForm] = useState(EMPTY);
  const [cron, setCron] = useState<Record<string, string>>({});
  const [shown, setShown] = useState<number | null>(null);
  const tasks = useQuery({ queryKey: ["psi-tasks"], queryFn: () => get<PsiTask[]>("/psi/tasks") });
  const runs = useQuery({ queryKey: ["psi-runs"], queryFn: () => get<PsiRun[]>("/psi/runs"), refetchInterval: 3000 });
  const schedules = useQuery({ queryKey: ["psi-schedules"], queryFn: () => get<PsiSchedule[]>("/psi/schedules") });
  const refresh = () => { for (const k of ["psi-tasks", "psi-runs", "psi-schedules"]) void client.invalidateQueries({ queryKey: [k] }); };
  const create = useMutation({
    mutationFn: () => post<PsiTask>("/psi/tasks", { ...form, partner_key_column: form.partner_key_column || null }),
    onSuccess: () => { setForm(EMPTY); refresh(); },
  });
  const act = useMutation({
    mutationFn: ({ path, body, method }: { path: string; body?: unknown; method?: "DELETE" }) =>
      method === "DELETE" ? del(path) : post(path, body ?? {}),
    onSettled: refresh,
  });
  const save = useMutation({ mutationFn: ({ run, fmt }: { run: number; fmt: string }) =>
    download(`/psi/runs/${run}/download?format=${fmt}`, `psi-${run}.${fmt}`) });
  const taskName = new Map((tasks.data ?? []).map((x) => [x.id, x.name]));
  const field = (key: keyof typeof EMPTY, label: string) => (
    <label>{label}<input name={`psi-${key}`} value={form[key]} onChange={(e) => setForm({ ...form, [key]: e.target.value })} /></label>
  );
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  return (
    <Page title={t("psi.title")}>
      <ErrorBox error={tasks.error ?? act.error ?? save.error} />
      <h2>{t("psi.tasks")}</h2>
      <Table label={t("psi.tasks")} rows={tasks.data} rowKey={(x) => x.id} cols={[
        { key: "name", label: t("common.name") },
        { key: "dataset", label: t("psi.dataset"), render: (x) => `${x.dataset} (${x.key_column})` },
        { key: "partner", label: t("psi.partner"), render: (x) => `${x.partner}: ${x.partner_dataset} (${x.partner_key_column})` },
        { key: "protocol", label: t("psi.protocol") },
        { key: "act", label: t("common.actions"), render: (x) => (
          <div className="row">
            <button type="button" onClick={() => act.mutate({ path: `/psi/tasks/${x.id}/run` })}>{t("psi.runNow")}</button>
            <label>{t("psi.cron")} <input name={`cron-${x.name}`} value={cron[x.id] ?? ""} placeholder="0 2 * * *"
              onChange={(e) => setCron({ ...cron, [x.id]: e.target.value })} /></label>
            <button type="button" disabled={!cron[x.id]}
              onClick={() => act.mutate({ path: `/psi/tasks/${x.id}/schedules`, body: { cron: cron[x.id] } })}>{t("psi.schedule")}</button>
          </div>) },
      ]} />
      <h2>{t("psi.runs")}</h2>
      <ErrorBox error={runs.error} />
      <Table label={t("psi.runs")} rows={runs.data} rowKey={(r) => String(r.id)} cols={[
        { key: "id", label: "#" },
        { key: "task", label: t("psi.task"), render: (r) => taskName.get(r.task_id) ?? r.task_id },
        { key: "state", label: t("common.state"), render: (r) => <>
          <StateBadge state={r.state} />{r.error && <div className="error small">{r.error}</div>}</> },
        { key: "job", label: t("jobs.id"), render: (r) => <Link to={`/jobs/${r.job_id}`}>{r.job_id}</Link> },
        { key: "protocol", label: t("psi.protocol") },
        { key: "sizes", label: t("psi.sizes"), render: (r) => `${r.input_rows ?? "—"} → ${r.intersection_size ?? "—"}` },
        { key: "wall", label: t("monitor.seconds"), render: (r) => r.wall_s?.toFixed(1) ?? "—" },
        { key: "started", label: t("psi.started"), render: (r) => when(r.started_at) },
        { key: "act", label: t("common.actions"), render: (r) => r.result_dataset ? (
          <div className="row">
            <button type="button" onClick={() => setShown(shown === r.id ? null : r.id)}>{t("psi.preview")}</button>
            <button type="button" onClick={() => save.mutate({ run: r.id, fmt: "csv" })}>CSV</button>
            <button type="button" onClick={() => save.mutate({ run: r.id, fmt: "parquet" })}>Parquet</button>
          </div>) : "—" },
      ]} />
      {shown !== null && <Preview run={shown} />}
      <h2>{t("psi.schedules")}</h2>
      <ErrorBox error={schedules.error} />
      <Table label={t("psi.schedules")} rows={schedules.data} rowKey={(s) => String(s.id)} cols={[
        { key: "task", label: t("psi.task"), render: (s) => taskName.get(s.task_id) ?? s.task_id },
        { key: "cron", label: t("psi.cron") },
        { key: "next", label: t("psi.next"), render: (s) => when(s.next_run_at) },
        { key: "last", label: t("psi.lastRun"), render: (s) => s.last_run_id ?? "—" },
        { key: "act", label: t("common.actions"), render: (s) => (
          <button type="button" className="danger" onClick={() => act.mutate({ path: `/psi/schedules/${s.id}`, method: "DELETE" })}>✕</button>) },
      ]} />
      <h2>{t("psi.create")}</h2>
      <form className="grid-form" onSubmit={submit} aria-label={t("psi.create")}>
        {field("name", t("common.name"))}
        {field("dataset", t("psi.dataset"))}
        {field("key_column", t("psi.keyColumn"))}
        {field("partner", t("psi.partner"))}
        {field("partner_dataset", t("psi.partnerDataset"))}
        {field("partner_key_column", t("psi.partnerKeyColumn"))}
        <label>{t("psi.protocol")}
          <select name="psi-protocol" value={form.protocol} onChange={(e) => setForm({ ...form, protocol: e.target.value })}>
            {["auto", "kkrt", "ecdh", "oprf"].map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </label>
        <button type="submit">{t("common.submit")}</button>
      </form>
      <ErrorBox error={create.error} />
    </Page>
  );
}
