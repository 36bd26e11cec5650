// The federation log (docs/ledger.md): its entries, the signed heads with their co-signatures
// and finality, verify-now, alerts (acknowledged by an admin), and a job's contribution report.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router-dom";
import { get, post, type Me } from "../api";
import {
  contributionRows, cosignSummary, latestHeads, operatorOf, recordedContributions, shortHash,
  type Checkpoint, type Contributions, type LedgerAlert, type LedgerPage, type VerifyReport,
} from "../ledger";
import { ErrorBox, Json, Page, Table, when } from "../ui";

function Finality({ head }: { head: Checkpoint }) {
  const { t } = useTranslation();
  const s = cosignSummary(head);
  return <span className={`badge ${head.final ? "state-succeeded" : "state-pending"}`}>
    {head.final ? t("ledger.final") : t("ledger.notFinal")} · {t("ledger.cosigned", { n: s.count, quorum: s.quorum })}</span>;
}

function ContributionReport({ job, recorded }: { job: string; recorded: Contributions | undefined }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const compute = useMutation({
    mutationFn: () => post<Contributions>(`/jobs/${job}/contributions`),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["ledger"] }),
  });
  const report = compute.data ?? recorded;
  const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(1)} %`);
  return (
    <section aria-label={t("ledger.contributions")}>
      <h2>{t("ledger.contributions")} · <Link to={`/jobs/${job}`}>{job}</Link></h2>
      <p className="muted small">{t("ledger.contributionsHelp")}</p>
      <ErrorBox error={compute.error} />
      {report ? (<>
        <p className="small">{t("ledger.method")}: {report.method} · {t("ledger.utility")}: {report.utility.toUpperCase()}
          {" "}· {report.component} ({report.model_task} → {report.evaluate_task})
          {report.values["all"] !== undefined && <> · {t("ledger.together")}: {report.values["all"].toFixed(3)}</>}</p>
        <Table label={t("ledger.contributions")} rows={contributionRows(report)} rowKey={(r) => r.org} cols={[
          { key: "org", label: t("ledger.party") },
          { key: "shapley", label: t("ledger.shapley"), render: (r) => (r.shapley >= 0 ? "+" : "") + r.shapley.toFixed(4) },
          { key: "share", label: t("ledger.share"), render: (r) => pct(r.share) },
          { key: "loo", label: t("ledger.leaveOneOut"), render: (r) => r.leaveOneOut?.toFixed(4) ?? "—" },
          { key: "alone", label: t("ledger.alone"), render: (r) => r.alone?.toFixed(3) ?? "—" },
        ]} />
      </>) : <p className="muted">{t("ledger.noContributions")}</p>}
      <button type="button" disabled={compute.isPending} onClick={() => compute.mutate()}>
        {compute.isPending ? t("common.loading") : t("ledger.compute")}</button>
    </section>
  );
}

export function Ledger() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [params, setParams] = useSearchParams();
  const job = params.get("job") ?? "";
  const [origin, setOrigin] = useState("");
  const [reasons, setReasons] = useState<Record<number, string>>({});
  const me = useQuery({ queryKey: ["me"], queryFn: () => get<Me>("/auth/me") });
  const query = new URLSearchParams({ limit: "500", ...(origin ? { origin } : {}), ...(job ? { job } : {}) });
  const entries = useQuery({ queryKey: ["ledger", "entries", origin, job],
    queryFn: () => get<LedgerPage>(`/ledger/entries?${query.toString()}`) });
  const heads = useQuery({ queryKey: ["ledger", "checkpoints"], queryFn: () => get<Checkpoint[]>("/ledger/checkpoints") });
  const alerts = useQuery({ queryKey: ["ledger", "alerts"], queryFn: () => get<LedgerAlert[]>("/ledger/alerts") });
  const refresh = () => void client.invalidateQueries({ queryKey: ["ledger"] });
  const verify = useMutation({ mutationFn: () => get<VerifyReport>("/ledger/verify") });
  const sync = useMutation({ mutationFn: () => post<Checkpoint & { problems: Record<string, string> }>("/ledger/checkpoints", {}),
    onSettled: refresh });
  const ack = useMutation({ mutationFn: ({ id, reason }: { id: number; reason: string }) =>
    post(`/ledger/alerts/${id}/acknowledge`, { reason }), onSettled: refresh });
  const admin = (me.data?.permissions ?? []).includes("partners.manage");
  const newest = entries.data?.entries.slice().reverse();
  return (
    <Page title={t("ledger.title")} actions={<>
      <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>{t("ledger.verify")}</button>{" "}
      <button type="button" onClick={() => sync.mutate()} disabled={sync.isPending}>{t("ledger.sync")}</button></>}>
      <p className="muted small">{t("ledger.help")}</p>
      <ErrorBox error={entries.error ?? heads.error ?? alerts.error ?? verify.error ?? sync.error ?? ack.error} />
      {verify.data && (
        <div role="status" className={verify.data.verified ? "ok" : "bad"}>
          {verify.data.verified ? t("ledger.verified", { n: verify.data.logs.length }) : t("ledger.notVerified")}
          <ul>{verify.data.logs.map((l) => (
            <li key={l.origin}>{operatorOf(l.origin)} ({t(`ledger.roles.${l.role}`, { defaultValue: l.role })}):{" "}
              {l.verified ? "✓" : `✗ ${l.message ?? l.error ?? ""}`} · {t("ledger.entriesHeld", { n: l.size })}
              {l.final ? ` · ${t("ledger.final")}` : ""}</li>))}</ul>
        </div>)}
      {sync.data && (
        <p role="status" className="small">{t("ledger.synced", { size: sync.data.size })}{" "}
          {Object.entries(sync.data.problems).map(([org, p]) => `${org}: ${p}`).join("; ")}</p>)}

      <h2>{t("ledger.alerts")}</h2>
      <Table label={t("ledger.alerts")} rows={alerts.data} rowKey={(a) => String(a.id)} cols={[
        { key: "at", label: t("common.created"), render: (a) => when(a.created_at) },
        { key: "operator", label: t("ledger.operator") },
        { key: "kind", label: t("ledger.kind") },
        { key: "message", label: t("ledger.message") },
        { key: "ack", label: t("ledger.acknowledged"), render: (a) => a.acknowledged_at
          ? `${a.acknowledged_by ?? ""} · ${when(a.acknowledged_at)} · ${a.reason ?? ""}`
          : admin ? (
            <form className="row" aria-label={t("ledger.acknowledge")} onSubmit={(e) => {
              e.preventDefault(); ack.mutate({ id: a.id, reason: reasons[a.id] ?? "" }); }}>
              <label>{t("common.reason")} <input required value={reasons[a.id] ?? ""}
                onChange={(e) => setReasons({ ...reasons, [a.id]: e.target.value })} /></label>
              <button type="submit">{t("ledger.acknowledge")}</button>
            </form>) : <span className="bad">{t("ledger.open")}</span> },
      ]} />

      <h2>{t("ledger.heads")}</h2>
      <Table label={t("ledger.heads")} rows={heads.data ? latestHeads(heads.data) : undefined} rowKey={(c) => c.origin} cols={[
        { key: "origin", label: t("ledger.log"), render: (c) => operatorOf(c.origin) },
        { key: "role", label: t("ledger.role"), render: (c) => t(`ledger.roles.${c.role}`, { defaultValue: c.role }) },
        { key: "size", label: t("ledger.size") },
        { key: "root", label: t("ledger.root"), render: (c) => <span className="mono" title={c.root}>{shortHash(c.root)}</span> },
        { key: "cosigners", label: t("ledger.cosigners"), render: (c) => c.cosigners.join(", ") || "—" },
        { key: "final", label: t("ledger.finality"), render: (c) => <Finality head={c} /> },
        { key: "at", label: t("common.created"), render: (c) => when(c.created_at) },
      ]} />

      {job && <ContributionReport job={job} recorded={recordedContributions(entries.data?.entries ?? [])[0]} />}

      <h2>{t("ledger.entries")}{entries.data ? ` · ${operatorOf(entries.data.origin)} (${entries.data.size})` : ""}</h2>
      <div className="row">
        <label>{t("ledger.log")}{" "}
          <select value={origin || entries.data?.origin || ""} onChange={(e) => setOrigin(e.target.value)}>
            {(entries.data?.origins ?? []).map((o) => <option key={o} value={o}>{operatorOf(o)}</option>)}
          </select></label>
        <label>{t("ledger.job")}{" "}
          <input name="ledger-job" defaultValue={job} onBlur={(e) => {
            const v = e.target.value.trim();
            setParams(v ? { job: v } : {});
          }} /></label>
      </div>
      <Table label={t("ledger.entries")} rows={newest} rowKey={(e) => String(e.seq)} cols={[
        { key: "seq", label: "#" },
        { key: "at", label: t("common.created"), render: (e) => when(e.created_at) },
        { key: "kind", label: t("ledger.kind") },
        { key: "producer", label: t("ledger.producer") },
        { key: "job", label: t("ledger.job"), render: (e) => e.job_id ? <Link to={`/ledger?job=${e.job_id}`}>{e.job_id}</Link> : "—" },
        { key: "body", label: t("common.details"), render: (e) => (
          <details><summary className="mono" title={e.leaf}>{shortHash(e.leaf)}</summary><Json value={e.body} /></details>) },
      ]} />
    </Page>
  );
}
