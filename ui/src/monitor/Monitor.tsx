// The job monitor: per-task, per-organisation status, a timeline, live logs and metric
// points over the node's SSE stream, and the charts (a lazy chunk of its own: ECharts).
import { lazy, Suspense, useEffect, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router-dom";
import { get, post, stream, type Job, type LogLine, type MetricPoint, type NodeInfo } from "../api";
import { attemptBars, partiesOfJob, partyGrid } from "../jobs";
import { ErrorBox, Page, StateBadge, when } from "../ui";

const Charts = lazy(() => import("./Charts"));

export default function Monitor() {
  const { t, i18n } = useTranslation();
  const { id = "" } = useParams();
  const [live, setLive] = useState<Job | null>(null);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [points, setPoints] = useState<MetricPoint[]>([]);
  const [ended, setEnded] = useState(false);
  const navigate = useNavigate();
  const node = useQuery({ queryKey: ["node"], queryFn: () => get<NodeInfo>("/node") });
  // A rerun is a new job from this one's document, asked of its initiator (this node).
  const rerun = useMutation({
    mutationFn: (selection: Record<string, string>) => post<Job>(`/jobs/${id}/rerun`, selection),
    onSuccess: (job) => navigate(`/jobs/${job.id}`),
  });
  const detail = useQuery({ queryKey: ["job", id], queryFn: () => get<Job>(`/jobs/${id}`), refetchInterval: ended ? false : 3000 });
  useEffect(() => {
    setLogs([]); setPoints([]); setEnded(false); setLive(null);
    return stream(`/jobs/${id}/events`, (e) => {
      if (e.event === "log") setLogs((l) => [...l, JSON.parse(e.data) as LogLine]);
      else if (e.event === "metric") setPoints((p) => [...p, JSON.parse(e.data) as MetricPoint]);
      else if (e.event === "job") setLive(JSON.parse(e.data) as Job);
      else if (e.event === "end") setEnded(true);
    });
  }, [id]);
  // The stream's end: read the detail once more for the parties' final reports.
  useEffect(() => { if (ended) void detail.refetch(); }, [ended]); // eslint-disable-line react-hooks/exhaustive-deps
  const job = live ?? detail.data;
  if (!job) return <Page title={t("monitor.title")}><ErrorBox error={detail.error} /><p>{t("common.loading")}</p></Page>;
  // Per-party states and attempts come with the job detail (the stream carries the summary).
  const full = detail.data ?? job;
  const parties = partiesOfJob(full);
  const canRerun = node.data?.name === job.initiator && ["succeeded", "failed", "cancelled"].includes(job.state);
  const grid = partyGrid(full);
  const attempts = new Map(full.tasks.map((x) => [x.name, x.attempts ?? []]));
  const start = Math.min(...job.tasks.filter((x) => x.started_at).map((x) => Date.parse(x.started_at!)), Date.parse(job.created_at));
  const end = Math.max(Date.now() * (ended ? 0 : 1), ...job.tasks.filter((x) => x.finished_at).map((x) => Date.parse(x.finished_at!)), start + 1);
  return (
    <Page title={`${t("monitor.title")} · ${job.name}`} actions={
      <span>{job.id} · <StateBadge state={job.state} /> · {ended ? t("monitor.ended") : t("monitor.live")}
        {" "}· <Link to={`/ledger?job=${job.id}`}>{t("monitor.ledger")}</Link></span>}>
      {job.error && <p role="alert" className="error">{job.error}</p>}
      <ErrorBox error={rerun.error} />
      <h2>{t("monitor.tasks")}</h2>
      <table aria-label={t("monitor.tasks")}>
        <thead><tr><th>{t("approvals.task")}</th><th>{t("common.state")}</th>
          {parties.map((p) => <th key={p}>{p} <small>({job.sites[p] ?? p.split(":")[1]})</small></th>)}
          <th>{t("monitor.seconds")}</th><th>{t("monitor.attempts")}</th><th>{t("monitor.runs")}</th>
          {canRerun && <th>{t("common.actions")}</th>}</tr></thead>
        <tbody>
          {job.tasks.map((task) => {
            const s = task.started_at ? (Date.parse(task.started_at) - start) / (end - start) : 0;
            const f = task.finished_at ? (Date.parse(task.finished_at) - start) / (end - start) : task.started_at ? 1 : 0;
            const cells = grid.get(task.name);
            const runs = attempts.get(task.name) ?? [];
            return (
              <tr key={task.name} data-task={task.name}>
                <td>{task.name}</td>
                <td><StateBadge state={task.state} />{task.error && <div className="error small">{task.error}</div>}</td>
                {parties.map((p) => {
                  const cell = cells?.get(p);
                  return (
                    <td key={p} data-party={p}>{cell ? <>
                      <StateBadge state={cell.state} />
                      <small className="muted" title={cell.reported ? t("monitor.reported") : t("monitor.mirrored")}>{cell.reported ? " ✓" : ""}</small>
                      {cell.error && <div className="error small">{cell.error}</div>}</> : "—"}</td>);
                })}
                <td>{task.seconds?.toFixed(1) ?? "—"}</td>
                <td className="timeline"><div className={`bar state-${task.state}`}
                  style={{ marginLeft: `${s * 100}%`, width: `${Math.max((f - s) * 100, 1)}%` }}
                  title={`${when(task.started_at)} → ${when(task.finished_at)}`} /></td>
                <td className="timeline attempts" aria-label={`${t("monitor.runs")} ${task.name}: ${runs.length}`}>
                  {attemptBars(runs, job.id, Date.now()).map((b) => (
                    <Link key={b.jobId} to={`/jobs/${b.jobId}`} className={`bar state-${b.state}${b.current ? " current" : ""}`}
                      style={{ marginLeft: `${b.left}%`, width: `${b.width}%` }} title={`${b.jobId} · ${b.state}`} />))}
                </td>
                {canRerun && <td><div className="row">
                  <button type="button" disabled={rerun.isPending} onClick={() => rerun.mutate({ from: task.name })}>{t("monitor.rerunFrom")}</button>
                  <button type="button" disabled={rerun.isPending} onClick={() => rerun.mutate({ only: task.name })}>{t("monitor.rerunOnly")}</button>
                </div></td>}
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
            <time>{new Date(l.at).toLocaleTimeString(i18n.language)}</time> <b>{l.level}</b> {l.task ? `[${l.task}${l.party ? ` ${l.party}` : ""}] ` : ""}{l.message}
          </div>))}
      </div>
    </Page>
  );
}
