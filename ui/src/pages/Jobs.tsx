import { useState } from "react";
import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { get, post, type Job, type MetricPoint, type NodeInfo } from "../api";
import { compareRuns } from "../jobs";
import { ErrorBox, Page, StateBadge, Table, when } from "../ui";

function Compare({ ids }: { ids: string[] }) {
  const { t } = useTranslation();
  const results = useQueries({ queries: ids.map((id) => ({
    queryKey: ["metrics", id], queryFn: () => get<MetricPoint[]>(`/jobs/${id}/metrics`) })) });
  const rows = compareRuns(results.map((r) => r.data ?? []));
  if (results.every((r) => r.isSuccess) && rows.length === 0) return <p className="muted">{t("monitor.noMetrics")}</p>;
  return (
    <table aria-label={t("jobs.compare")}>
      <thead><tr><th>{t("jobs.series")}</th>{ids.map((id) => <th key={id}><Link to={`/jobs/${id}`}>{id}</Link></th>)}</tr></thead>
      <tbody>{rows.map((r) => (
        <tr key={r.key} className={r.differs ? "differs" : undefined}><td>{r.key}</td>
          {r.values.map((v, i) => <td key={i}>{v === null ? "—" : v.toFixed(4)}</td>)}</tr>))}
      </tbody>
    </table>
  );
}

export function Jobs() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [picked, setPicked] = useState<string[]>([]);
  const jobs = useQuery({ queryKey: ["jobs"], queryFn: () => get<Job[]>("/jobs"), refetchInterval: 3000 });
  const node = useQuery({ queryKey: ["node"], queryFn: () => get<NodeInfo>("/node") });
  const act = useMutation({
    mutationFn: (path: string) => post<Job>(path),
    onSuccess: (job, path) => {
      void client.invalidateQueries({ queryKey: ["jobs"] });
      if (path.endsWith("/rerun")) navigate(`/jobs/${job.id}`);
    },
  });
  const toggle = (id: string) => setPicked((p) => p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2));
  return (
    <Page title={t("jobs.title")} actions={<Link className="button" to="/editor">{t("jobs.new")}</Link>}>
      <ErrorBox error={act.error ?? jobs.error} />
      <Table label={t("jobs.title")} rows={jobs.data} rowKey={(j) => j.id} cols={[
        { key: "pick", label: t("jobs.compare"), render: (j) => (
          <input type="checkbox" aria-label={`${t("jobs.compare")} ${j.id}`} checked={picked.includes(j.id)}
            onChange={() => toggle(j.id)} />) },
        { key: "id", label: t("jobs.id"), render: (j) => <Link to={`/jobs/${j.id}`}>{j.name} · {j.id}</Link> },
        { key: "initiator", label: t("jobs.initiator") },
        { key: "state", label: t("common.state"), render: (j) => <StateBadge state={j.state} /> },
        { key: "tasks", label: t("jobs.tasks"), render: (j) =>
          `${j.tasks.filter((x) => x.state === "succeeded" || x.state === "reused").length}/${j.tasks.length}` },
        { key: "created", label: t("common.created"), render: (j) => when(j.created_at) },
        { key: "act", label: t("common.actions"), render: (j) => (
          <div className="row">
            {j.initiator === node.data?.name &&  /* a rerun is asked of the job's initiator */
              <button type="button" onClick={() => act.mutate(`/jobs/${j.id}/rerun`)}>{t("jobs.rerun")}</button>}
            <button type="button" onClick={() => navigate(`/editor?clone=${j.id}`)}>{t("jobs.clone")}</button>
            {!["succeeded", "failed", "cancelled"].includes(j.state) &&
              <button type="button" className="danger" onClick={() => act.mutate(`/jobs/${j.id}/cancel`)}>{t("jobs.cancel")}</button>}
          </div>) },
      ]} />
      <h2>{t("jobs.compare")}</h2>
      {picked.length === 2 ? <Compare ids={picked} /> : <p className="muted">{t("jobs.compareTwo")}</p>}
    </Page>
  );
}
