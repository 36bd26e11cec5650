import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { del, get, post, put, type Dataset, type Grant, type Job } from "../api";
import { ErrorBox, Json, Page, StateBadge, Table, when } from "../ui";

function Detail({ name }: { name: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [partner, setPartner] = useState("");
  const preview = useQuery({ queryKey: ["preview", name], queryFn: () => get<{ rows: Record<string, unknown>[] }>(`/datasets/${name}/preview`) });
  const stats = useQuery({ queryKey: ["stats", name], queryFn: () => get<{ columns: Record<string, unknown>[] }>(`/datasets/${name}/stats`) });
  const grants = useQuery({ queryKey: ["grants"], queryFn: () => get<Grant[]>("/grants") });
  // Usage from this node's own job records: jobs in which a party run here read the dataset.
  const usage = useQuery({ queryKey: ["usage", name], queryFn: () => get<Job[]>(`/jobs?dataset=${encodeURIComponent(name)}`) });
  const share = useMutation({
    mutationFn: () => put(`/datasets/${name}/partners/${partner}`),
    onSettled: () => client.invalidateQueries({ queryKey: ["datasets"] }),
  });
  const rows = preview.data?.rows ?? [];
  const cols = rows[0] ? Object.keys(rows[0]) : [];
  return (
    <div className="detail">
      <h3>{t("datasets.preview")}</h3>
      <ErrorBox error={preview.error} />
      <Table label={t("datasets.preview")} rows={rows} rowKey={(r) => JSON.stringify(r)}
        cols={cols.map((c) => ({ key: c, label: c }))} />
      <h3>{t("datasets.stats")}</h3>
      <Table label={t("datasets.stats")} rows={stats.data?.columns} rowKey={(r) => String(r["name"])}
        cols={stats.data?.columns[0] ? Object.keys(stats.data.columns[0]).map((c) => ({ key: c, label: c,
          render: (r: Record<string, unknown>) => typeof r[c] === "number" ? (r[c] as number).toFixed(3) : String(r[c] ?? "") })) : []} />
      <h3>{t("datasets.usage")}</h3>
      <ErrorBox error={usage.error} />
      {usage.data?.length === 0 ? <p className="muted">{t("datasets.unused")}</p> :
        <Table label={t("datasets.usedBy")} rows={usage.data} rowKey={(j) => j.id} cols={[
          { key: "id", label: t("jobs.id"), render: (j) => <Link to={`/jobs/${j.id}`}>{j.name} · {j.id}</Link> },
          { key: "initiator", label: t("jobs.initiator") },
          { key: "state", label: t("common.state"), render: (j) => <StateBadge state={j.state} /> },
          { key: "created", label: t("common.created"), render: (j) => when(j.created_at) },
        ]} />}
      <h3>{t("datasets.grants")}</h3>
      <Table label={t("datasets.grants")} rows={(grants.data ?? []).filter((g) => g.dataset === name)} rowKey={(g) => String(g.id)} cols={[
        { key: "partner", label: t("approvals.partner") },
        { key: "status", label: t("common.state") },
        { key: "kinds", label: t("approvals.kinds"), render: (g) => g.component_kinds.join(", ") },
      ]} />
      <form className="row" onSubmit={(e) => { e.preventDefault(); share.mutate(); }}>
        <label>{t("datasets.share")} <input value={partner} onChange={(e) => setPartner(e.target.value)} /></label>
        <button type="submit">{t("common.submit")}</button>
      </form>
      <ErrorBox error={share.error} />
    </div>
  );
}

export function Datasets() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [open, setOpen] = useState<string | null>(null);
  const [form, setForm] = useState({ name: "", kind: "csv", location: "", id_column: "id", label_column: "", description: "" });
  const datasets = useQuery({ queryKey: ["datasets"], queryFn: () => get<Dataset[]>("/datasets") });
  const register = useMutation({
    mutationFn: () => post<Dataset>("/datasets", { ...form, label_column: form.label_column || null }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["datasets"] }),
  });
  const remove = useMutation({
    mutationFn: (name: string) => del(`/datasets/${name}`),
    onSettled: () => client.invalidateQueries({ queryKey: ["datasets"] }),
  });
  const field = (key: keyof typeof form, label: string) => (
    <label>{label}<input name={key} value={form[key]} onChange={(e) => setForm({ ...form, [key]: e.target.value })} /></label>
  );
  const submit = (e: FormEvent) => { e.preventDefault(); register.mutate(); };
  return (
    <Page title={t("datasets.title")}>
      <ErrorBox error={datasets.error ?? remove.error} />
      <Table label={t("datasets.title")} rows={datasets.data} rowKey={(d) => d.name} cols={[
        { key: "name", label: t("common.name"), render: (d) => (
          <button type="button" className="link" aria-expanded={open === d.name}
            onClick={() => setOpen(open === d.name ? null : d.name)}>{d.name}</button>) },
        { key: "kind", label: t("datasets.kind") },
        { key: "id_column", label: t("datasets.idColumn") },
        { key: "label_column", label: t("datasets.labelColumn") },
        { key: "row_count", label: t("datasets.rows") },
        { key: "columns", label: t("datasets.columns"), render: (d) => d.columns.length },
        { key: "shared", label: t("datasets.sharedWith"), render: (d) => d.shared_with.join(", ") },
        { key: "act", label: t("common.actions"), render: (d) => (
          <button type="button" className="danger" onClick={() => remove.mutate(d.name)}>✕</button>) },
      ]} />
      {open && <Detail name={open} />}
      <h2>{t("datasets.register")}</h2>
      <form className="grid-form" onSubmit={submit} aria-label={t("datasets.register")}>
        {field("name", t("common.name"))}
        <label>{t("datasets.kind")}
          <select name="kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
            <option value="csv">csv</option><option value="parquet">parquet</option>
          </select>
        </label>
        {field("location", t("datasets.location"))}
        {field("id_column", t("datasets.idColumn"))}
        {field("label_column", t("datasets.labelColumn"))}
        {field("description", t("datasets.description"))}
        <button type="submit">{t("common.submit")}</button>
      </form>
      <ErrorBox error={register.error} />
      {register.data && <Json value={{ registered: register.data.name, rows: register.data.row_count }} />}
    </Page>
  );
}
