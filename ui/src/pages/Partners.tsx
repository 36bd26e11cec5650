import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { get, post, type Grant, type Health, type Partner } from "../api";
import { ErrorBox, Json, Page, Table, when } from "../ui";

/** What a partner shares with this node, and asking it for a grant on one of its datasets. */
function Shared({ partner }: { partner: string }) {
  const { t } = useTranslation();
  const shared = useQuery({ queryKey: ["shared", partner], queryFn: () => get<Record<string, unknown>[]>(`/partners/${partner}/datasets`) });
  const [ask, setAsk] = useState({ dataset: "", purpose: "", kinds: "psi, data_split, hetero_secureboost, predict", days: "30" });
  const request = useMutation({ mutationFn: () => post<Grant>(`/partners/${partner}/grant-requests`, {
    dataset: ask.dataset, purpose: ask.purpose,
    component_kinds: ask.kinds.split(",").map((s) => s.trim()).filter(Boolean),
    valid_until: new Date(Date.now() + Number(ask.days) * 86_400_000).toISOString() }) });
  return (
    <div className="detail">
      <h3>{t("partners.remoteDatasets")} · {partner}</h3>
      <ErrorBox error={shared.error} />
      <Table label={t("partners.remoteDatasets")} rows={shared.data} rowKey={(d) => String(d["name"])} cols={[
        { key: "name", label: t("common.name") },
        { key: "row_count", label: t("datasets.rows") },
        { key: "columns", label: t("datasets.columns"), render: (d) => Array.isArray(d["columns"])
          ? (d["columns"] as Record<string, unknown>[]).map((c) => String(c["name"] ?? c)).join(", ") : "" },
      ]} />
      <form className="grid-form" aria-label={t("partners.askGrant")} onSubmit={(e) => { e.preventDefault(); request.mutate(); }}>
        <label>{t("approvals.dataset")}<input name="grant-dataset" value={ask.dataset} onChange={(e) => setAsk({ ...ask, dataset: e.target.value })} /></label>
        <label>{t("approvals.purpose")}<input name="grant-purpose" value={ask.purpose} onChange={(e) => setAsk({ ...ask, purpose: e.target.value })} /></label>
        <label>{t("approvals.kinds")}<input name="grant-kinds" value={ask.kinds} onChange={(e) => setAsk({ ...ask, kinds: e.target.value })} /></label>
        <label>{t("partners.days")}<input name="grant-days" type="number" min={1} value={ask.days} onChange={(e) => setAsk({ ...ask, days: e.target.value })} /></label>
        <button type="submit">{t("partners.askGrant")}</button>
      </form>
      <ErrorBox error={request.error} />
      {request.data && <p role="status">#{request.data.id} · {t(`states.${request.data.status}`, { defaultValue: request.data.status })}</p>}
    </div>
  );
}

export function Partners() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [open, setOpen] = useState<string | null>(null);
  const partners = useQuery({ queryKey: ["partners"], queryFn: () => get<Partner[]>("/partners") });
  const check = useMutation({
    mutationFn: (name: string) => post<Health>(`/partners/${name}/health`),
    onSettled: () => client.invalidateQueries({ queryKey: ["partners"] }),
  });
  return (
    <Page title={t("partners.title")}>
      <ErrorBox error={partners.error ?? check.error} />
      <Table label={t("partners.title")} rows={partners.data} rowKey={(p) => p.name} cols={[
        { key: "name", label: t("common.name"), render: (p) => (
          <button type="button" className="link" aria-expanded={open === p.name}
            onClick={() => setOpen(open === p.name ? null : p.name)}>{p.name}</button>) },
        { key: "address", label: t("partners.address") },
        { key: "fp", label: t("partners.fingerprint"), render: (p) => <span className="mono">{p.fingerprint.slice(0, 23)}…</span> },
        { key: "health", label: t("partners.health"), render: (p) =>
          p.last_health_ok === null ? "—" : p.last_health_ok ? "✓" : "✗" },
        { key: "at", label: t("partners.registered"), render: (p) => when(p.created_at) },
        { key: "act", label: t("common.actions"), render: (p) => (
          <button type="button" onClick={() => check.mutate(p.name)}>{t("partners.check")}</button>) },
      ]} />
      {check.data && <Json value={check.data} />}
      {open && <Shared partner={open} />}
    </Page>
  );
}
