// Pure mappings behind the job list and the job monitor (tested in jobs.test.ts): a job's
// DAG document to clone, two runs' metrics side by side, each party's state per task, and a
// task's attempts as timeline bars.
import type { Attempt, Job, MetricPoint, PartyState } from "./api";
import type { DagDoc } from "./editor/dag";

/** What the editor opens when cloning ``job``: its document (as the node holds it) and its
 * sites, or null when the node sent no document. */
export function cloneSource(job: Job): { doc: DagDoc; sites: Record<string, string> } | null {
  if (!job.dag) return null;
  return { doc: job.dag as unknown as DagDoc, sites: { ...job.sites } };
}

/** The last value of every series (task · party · metric name) of one run. */
export function lastValues(points: MetricPoint[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of [...points].sort((a, b) => a.id - b.id)) out.set(`${p.task} · ${p.party} · ${p.name}`, p.value);
  return out;
}

export interface CompareRow { key: string; values: (number | null)[]; differs: boolean }

/** Runs' final metrics side by side: one row per series any run has, sorted. */
export function compareRuns(runs: MetricPoint[][]): CompareRow[] {
  const maps = runs.map(lastValues);
  const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
  return keys.map((key) => {
    const values = maps.map((m) => m.get(key) ?? null);
    return { key, values, differs: new Set(values.map(String)).size > 1 };
  });
}

/** Every party taking part in some task, in order of first appearance. */
export function partiesOfJob(job: Job): string[] {
  const seen: string[] = [];
  for (const t of job.tasks) for (const p of t.parties ?? []) if (!seen.includes(p.party)) seen.push(p.party);
  return seen;
}

/** Each task's party states by party name (a party missing from a task has none). */
export function partyGrid(job: Job): Map<string, Map<string, PartyState>> {
  return new Map(job.tasks.map((t) => [t.name, new Map((t.parties ?? []).map((p) => [p.party, p]))]));
}

export interface Bar { jobId: string; state: string; left: number; width: number; current: boolean }

/** A task's attempts as bars on one shared time axis (percentages); an attempt still running
 * ends at ``now``, one never started is a sliver at the start of the axis. */
export function attemptBars(attempts: Attempt[], currentJob: string, now: number): Bar[] {
  const started = attempts.filter((a) => a.started_at).map((a) => Date.parse(a.started_at!));
  if (!started.length) return attempts.map((a) => ({ jobId: a.job_id, state: a.state, left: 0, width: 1, current: a.job_id === currentJob }));
  const start = Math.min(...started);
  const ends = attempts.map((a) => (a.finished_at ? Date.parse(a.finished_at) : a.started_at ? now : start));
  const span = Math.max(Math.max(...ends) - start, 1);
  return attempts.map((a, i) => {
    const s = a.started_at ? Date.parse(a.started_at) : start;
    return { jobId: a.job_id, state: a.state, current: a.job_id === currentJob,
      left: ((s - start) / span) * 100, width: Math.max(((ends[i]! - s) / span) * 100, 1) };
  });
}
