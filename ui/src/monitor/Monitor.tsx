// The job monitor: per-task, per-organisation status, a timeline, live logs and metric
// points over the node's SSE stream, and the charts (a lazy chunk of its own: ECharts).
import { lazy, Suspense, useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router-dom";
import { get, stream, type Job, type LogLine, type MetricPoint } from "../api";
import { ErrorBox, Page, StateBadge, when } from "../ui";

const Charts = lazy(() => import("./Charts"));

export default function Monitor() {
  const { t } = useTranslation();
  const { id = "" } = useParams();
  const [live, setLive] = useState<Job | null>(null);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [points, setPoints] = useState<MetricPoint[]>([]);
  const [ended, setEnded] = useState(false);
  const detail = useQuery({ queryKey: ["job", id], queryFn: () => get<Job>(`/jobs/${id}`), refetchInterval: ended ? false : 5000 });
  useEffect(() => {
    setLogs([]); setPoints([]); setEnded(false); setLive(null);
    return stream(`/jobs/${id}/events`, (e) => {
      if (e.event === "log") setLogs((l) => [...l, JSON.parse(e.data) as LogLine]);
      else if (e.event === "metric") setPoints((p) => [...p, JSON.parse(e.data) as MetricPoint]);
      else if (e.event === "job") setLive(JSON.parse(e.data) as Job);
      else if (e.event === "end") setEnded(true);
    });
  }, [id]);
  const job = live ?? detail.data;
  if (!job) return <Page title={t("monitor.title")}><ErrorBox error={detail.error} /><p>{t("common.loading")}</p></Page>;
  const start = Math.min(...job.tasks.filter((x) => x.started_at).map((x) => Date.parse(x.started_at!)), Date.parse(job.created_at));
  const end = Math.max(Date.now() * (ended ? 0 : 1), ...job.tasks.filter((x) => x.finished_at).map((x) => Date.parse(x.finished_at!)), start + 1);
  return (
    <Page title={`${t("monitor.title")} · ${job.name}`} actions={
      <span>{job.id} · <StateBadge state={job.state} /> · {ended ? t("monitor.ended") : t("monitor.live")}</span>}>
      {job.error && <p role="alert" className="error">{job.error}</p>}
      <h2>{t("monitor.tasks")}</h2>
      <table aria-label={t("monitor.tasks")}>
        <thead><tr><th>{t("approvals.task")}</th><th>{t("common.state")}</th>
          {job.organisations.map((o) => <th key={o.org}>{o.org} <small>({o.parties.join(", ")})</small></th>)}
          <th>{t("monitor.seconds")}</th><th>{t("monitor.attempts")}</th></tr></thead>
        <tbody>
          {job.tasks.map((task) => {
            const s = task.started_at ? (Date.parse(task.started_at) - start) / (end - start) : 0;
            const f = task.finished_at ? (Date.parse(task.finished_at) - start) / (end - start) : task.started_at ? 1 : 0;
            return (
              <tr key={task.name} data-task={task.name}>
                <td>{task.name}</td>
                <td><StateBadge state={task.state} />{task.error && <div className="error small">{task.error}</div>}</td>
                {job.organisations.map((o) => (
                  <td key={o.org}><StateBadge state={o.status === "accepted" ? task.state : o.status} /></td>))}
                <td>{task.seconds?.toFixed(1) ?? "—"}</td>
                <td className="timeline"><div className={`bar state-${task.state}`}
                  style={{ marginLeft: `${s * 100}%`, width: `${Math.max((f - s) * 100, 1)}%` }}
                  title={`${when(task.started_at)} → ${when(task.finished_at)}`} /></td>
              </tr>);
          })}
        </tbody>
      </table>
      <h2>{t("monitor.metrics")}</h2>
      <Suspense fallback={<p>{t("common.loading")}</p>}>
        <Charts points={points} jobId={job.id} state={job.state} />
      </Suspense>
      <h2>{t("monitor.logs")}</h2>
      <div className="logs" role="log" aria-live="polite" aria-label={t("monitor.logs")}>
        {logs.map((l) => (
          <div key={l.id} className={`log level-${l.level}`}>
            <time>{new Date(l.at).toLocaleTimeString()}</time> <b>{l.level}</b> {l.task ? `[${l.task}${l.party ? ` ${l.party}` : ""}] ` : ""}{l.message}
          </div>))}
      </div>
    </Page>
  );
}
