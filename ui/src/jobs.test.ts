import { describe, expect, it } from "vitest";
import type { Job, MetricPoint } from "./api";
import { attemptBars, cloneSource, compareRuns, partiesOfJob, partyGrid } from "./jobs";

const point = (id: number, task: string, party: string, name: string, value: number): MetricPoint =>
  ({ id, task, party, name, value, step: null, at: "2026-01-01T00:00:00Z" });

const job = (over: Partial<Job> = {}): Job => ({
  id: "00000000000000a1", name: "credit", initiator: "bank", state: "running", error: "",
  rerun_of: null, sites: { "guest:bank": "bank", "host:telco": "telco-prod" }, selection: {},
  created_by: "user:admin", created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z",
  finished_at: null, organisations: [],
  tasks: [
    { name: "read", state: "succeeded", error: "", seconds: 1, started_at: null, finished_at: null,
      parties: [{ party: "guest:bank", site: "bank", state: "succeeded", error: "", reported: true, at: null },
        { party: "host:telco", site: "telco-prod", state: "succeeded", error: "", reported: true, at: null }] },
    { name: "evaluate", state: "running", error: "", seconds: null, started_at: null, finished_at: null,
      parties: [{ party: "guest:bank", site: "bank", state: "running", error: "", reported: false, at: null }] },
  ],
  ...over,
});

describe("job list", () => {
  it("clones a job's document with its sites, or nothing without one", () => {
    const dag = { version: 1, name: "credit", parties: { guest: ["bank"] }, tasks: {} };
    const got = cloneSource(job({ dag }));
    expect(got).toEqual({ doc: dag, sites: { "guest:bank": "bank", "host:telco": "telco-prod" } });
    got!.sites["guest:bank"] = "changed";
    expect(job({ dag }).sites["guest:bank"]).toBe("bank");
    expect(cloneSource(job())).toBeNull();
  });

  it("compares the last value of every series of two runs, per party", () => {
    const a = [point(1, "lr", "guest:bank", "loss", 0.7), point(3, "lr", "guest:bank", "loss", 0.5),
      point(2, "evaluate", "guest:bank", "auc", 0.8)];
    const b = [point(9, "lr", "guest:bank", "loss", 0.5), point(8, "lr", "host:telco", "loss", 0.4)];
    expect(compareRuns([a, b])).toEqual([
      { key: "evaluate · guest:bank · auc", values: [0.8, null], differs: true },
      { key: "lr · guest:bank · loss", values: [0.5, 0.5], differs: false },
      { key: "lr · host:telco · loss", values: [null, 0.4], differs: true },
    ]);
  });
});

describe("job monitor", () => {
  it("lays out each party's state per task", () => {
    const j = job();
    expect(partiesOfJob(j)).toEqual(["guest:bank", "host:telco"]);
    const grid = partyGrid(j);
    expect(grid.get("read")!.get("host:telco")!.state).toBe("succeeded");
    expect(grid.get("evaluate")!.get("host:telco")).toBeUndefined();
    expect(partyGrid(job({ tasks: [{ ...j.tasks[0]!, parties: undefined }] })).get("read")!.size).toBe(0);
  });

  it("puts a task's attempts on one time axis", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const bars = attemptBars([
      { job_id: "a", state: "failed", seconds: 10, started_at: at(0), finished_at: at(10) },
      { job_id: "b", state: "running", seconds: null, started_at: at(30), finished_at: null },
    ], "b", Date.parse(at(40)));
    expect(bars).toEqual([
      { jobId: "a", state: "failed", left: 0, width: 25, current: false },
      { jobId: "b", state: "running", left: 75, width: 25, current: true },
    ]);
    expect(attemptBars([{ job_id: "a", state: "pending", seconds: null, started_at: null, finished_at: null }], "a", 0))
      .toEqual([{ jobId: "a", state: "pending", left: 0, width: 1, current: true }]);
  });
});
