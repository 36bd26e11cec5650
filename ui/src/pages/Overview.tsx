import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { get, post, type Grant, type Health, type Job, type NodeInfo, type Partner } from "../api";
import { ErrorBox, Page, StateBadge, Table, when } from "../ui";
import { CREDIT_DEMO } from "../editor/templates";

export function Overview() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const node = useQuery({ queryKey: ["node"], queryFn: () => get<NodeInfo>("/node") });
  const partners = useQuery({ queryKey: ["partners"], queryFn: () => get<Partner[]>("/partners") });
  const jobs = useQuery({ queryKey: ["jobs"], queryFn: () => get<Job[]>("/jobs"), refetchInterval: 3000 });
  const approvals = useQuery({ queryKey: ["approvals"], queryFn: () => get<Grant[]>("/approvals") });
  const check = useMutation({
    mutationFn: (name: string) => post<Health>(`/partners/${name}/health`),
    onSettled: () => client.invalidateQueries({ queryKey: ["partners"] }),
  });
  const running = (jobs.data ?? []).filter((j) => j.state === "running" || j.state === "pending");
  const waitingJobs = (jobs.data ?? []).filter((j) => j.state === "waiting_approval");
  // The example job is the demo's: offer it where it runs — at its guest, partnered with the
  // other organisations it names — and while the node is new (a few jobs at most).
  const exampleFits = node.data?.name === CREDIT_DEMO.parties["guest"]?.[0]
    && Object.entries(CREDIT_DEMO.parties).filter(([role]) => role !== "guest").flatMap(([, orgs]) => orgs)
      .every((org) => (partners.data ?? []).some((p) => p.name === org));
  const days = node.data ? Math.floor((Date.parse(node.data.cert_expires_at) - Date.now()) / 86_400_000) : 0;
  return (
    <Page title={t("overview.title")}>
      <div className="cards">
        <article className="card" aria-label={t("overview.health")}>
          <h2>{t("overview.health")}</h2>
          {node.data ? (
            <dl>
              <dt>{t("app.node")}</dt><dd>{node.data.name} · <span className="ok">{t("overview.healthy")}</span></dd>
              <dt>{t("overview.version")}</dt><dd>{node.data.version}</dd>
              <dt>{t("overview.peerAddress")}</dt><dd>{node.data.peer_address}</dd>
              <dt>{t("overview.suite")}</dt>
              <dd>{t(`overview.suites.${node.data.crypto_suite}`, { defaultValue: node.data.crypto_suite })}</dd>
              <dt>{t("overview.fingerprint")}</dt><dd className="mono">{node.data.fingerprint.slice(0, 23)}…</dd>
              <dt>{t("overview.certExpiry")}</dt>
              <dd className={days < 30 ? "bad" : undefined}>{when(node.data.cert_expires_at)} ({t("overview.daysLeft", { days })})</dd>
            </dl>
          ) : <ErrorBox error={node.error} />}
        </article>
        <article className="card"><h2>{t("overview.running")}</h2><p className="big">{running.length}</p></article>
        <article className="card">
          <h2>{t("overview.pending")}</h2>
          <p className="big"><Link to="/approvals">{(approvals.data?.length ?? 0) + waitingJobs.length}</Link></p>
        </article>
      </div>
      {exampleFits && (jobs.data ?? []).length < 3 && (
        <aside className="card start" aria-label={t("overview.start")}>
          <h2>{t("overview.start")}</h2>
          <p>{t("overview.startText")}</p>
          <Link className="button primary" to="/editor?example=1">{t("overview.startLink")}</Link>
        </aside>)}
      <h2>{t("overview.partners")}</h2>
      <ErrorBox error={check.error} />
      <Table label={t("overview.partners")} rows={partners.data} rowKey={(p) => p.name} cols={[
        { key: "name", label: t("common.name") },
        { key: "address", label: t("partners.address") },
        { key: "ok", label: t("partners.health"), render: (p) => p.last_health_ok === null
          ? t("overview.unchecked") : p.last_health_ok
            ? <span className="ok">{t("overview.reachable")}</span>
            : <span className="bad">{t("overview.unreachable")}</span> },
        { key: "at", label: t("overview.lastCheck"), render: (p) => when(p.last_health_at) },
        { key: "act", label: t("common.actions"), render: (p) => (
          <button type="button" onClick={() => check.mutate(p.name)}>{t("overview.check")}</button>) },
      ]} />
      <h2>{t("overview.running")}</h2>
      <Table label={t("overview.running")} rows={running} rowKey={(j) => j.id} cols={[
        { key: "id", label: t("jobs.id"), render: (j) => <Link to={`/jobs/${j.id}`}>{j.name} · {j.id}</Link> },
        { key: "state", label: t("common.state"), render: (j) => <StateBadge state={j.state} /> },
        { key: "at", label: t("common.created"), render: (j) => when(j.created_at) },
      ]} />
    </Page>
  );
}
