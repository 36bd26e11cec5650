import { describe, expect, it } from "vitest";
import {
  contributionRows, cosignSummary, latestHeads, operatorOf, recordedContributions, shortHash,
  type Checkpoint, type Contributions, type LedgerEntry,
} from "./ledger";

const head = (id: number, origin: string, size: number, cosigners: string[] = [], quorum = 1): Checkpoint =>
  ({ id, origin, role: "operator", size, root: "r", signature: "s", cosigners, quorum,
     final: cosigners.length >= quorum, created_at: "2026-01-01T00:00:00Z" });

const report: Contributions = {
  job: "j", method: "vertical.party_shapley", utility: "auc", model_task: "sb", evaluate_task: "ev",
  component: "hetero_secureboost", scores: { telco: 0.013, bank: 0.244 },
  leave_one_out: { bank: 0.3, telco: 0.02 }, values: { none: 0.5, bank: 0.73, telco: 0.5, all: 0.757 },
};

describe("ledger mappings", () => {
  it("names the operator of a log", () => {
    expect(operatorOf("coalition.ledger/bank")).toBe("bank");
    expect(operatorOf("coalition.ledger/bank/sm3")).toBe("bank (SM3)");
    expect(operatorOf("other")).toBe("other");
  });
  it("keeps the newest head of each log", () => {
    const heads = latestHeads([head(3, "b", 9), head(1, "a", 2), head(2, "b", 4), head(4, "b", 9)]);
    expect(heads.map((h) => [h.origin, h.id])).toEqual([["a", 1], ["b", 4]]);
  });
  it("counts co-signatures against the quorum", () => {
    expect(cosignSummary(head(1, "a", 1, ["telco", "carmaker"], 2))).toEqual({ count: 2, quorum: 2, met: true });
    expect(cosignSummary(head(1, "a", 1, ["telco"], 2)).met).toBe(false);
    expect(cosignSummary(head(1, "a", 1, [], 0)).met).toBe(false); // no witnesses: never final
  });
  it("orders parties by contribution and shares the positive total", () => {
    const rows = contributionRows(report);
    expect(rows.map((r) => r.org)).toEqual(["bank", "telco"]);
    expect(rows[0]!.alone).toBe(0.73);
    expect(rows[0]!.leaveOneOut).toBe(0.3);
    expect(rows[0]!.share! + rows[1]!.share!).toBeCloseTo(1);
    const negative = contributionRows({ ...report, scores: { bank: 0.2, telco: -0.01 } });
    expect(negative[1]!.share).toBeNull();
  });
  it("reads recorded contribution reports newest first", () => {
    const entry = (seq: number, kind: string, body: object): LedgerEntry =>
      ({ seq, origin: "o", kind, producer: "bank", job_id: "j", body: body as Record<string, unknown>,
         leaf: "l", created_at: "2026-01-01T00:00:00Z" });
    const got = recordedContributions([entry(1, "contribution.scores", { ...report, utility: "old" }),
      entry(2, "job.metrics", {}), entry(5, "contribution.scores", report)]);
    expect(got.map((c) => c.utility)).toEqual(["auc", "old"]);
  });
  it("cuts long hashes", () => {
    expect(shortHash("abcdef", 4)).toBe("abcd…");
    expect(shortHash("ab", 4)).toBe("ab");
  });
});
