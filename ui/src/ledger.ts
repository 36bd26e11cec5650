// The federation log as the console shows it: pure mappings from the node's /ledger and
// /jobs/{id}/contributions answers to rows (tested in ledger.test.ts).

export interface LedgerEntry { seq: number; origin: string; kind: string; producer: string;
  job_id: string | null; body: Record<string, unknown>; leaf: string; created_at: string }
export interface LedgerPage { origin: string; size: number; origins: string[]; entries: LedgerEntry[] }
export interface Checkpoint { id: number; origin: string; role: string; size: number; root: string;
  signature: string; cosigners: string[]; quorum: number; final: boolean; created_at: string }
export interface LogCheck { origin: string; role: string; size: number; checkpoint_size: number;
  final: boolean; cosigners: string[]; verified: boolean; valid_cosignatures?: number;
  error?: string; message?: string }
export interface VerifyReport { node: string; verified: boolean; logs: LogCheck[] }
export interface LedgerAlert { id: number; operator: string; kind: string; message: string;
  evidence: Record<string, unknown>; created_at: string; acknowledged_by: string | null;
  acknowledged_at: string | null; reason: string | null }
export interface Contributions { job: string; method: string; utility: string; model_task: string;
  evaluate_task: string; component: string; scores: Record<string, number>;
  leave_one_out: Record<string, number>; values: Record<string, number> }

export const ORIGIN_PREFIX = "coalition.ledger/";

/** The organisation that operates a log (``coalition.ledger/bank`` → ``bank``), with the tree
 * hash of a log that names one (an ``sm`` federation's ``coalition.ledger/bank/sm3`` →
 * ``bank (SM3)``). */
export function operatorOf(origin: string): string {
  if (!origin.startsWith(ORIGIN_PREFIX)) return origin;
  const name = origin.slice(ORIGIN_PREFIX.length);
  const cut = name.indexOf("/");
  return cut < 0 ? name : `${name.slice(0, cut)} (${name.slice(cut + 1).toUpperCase()})`;
}

/** The newest signed head of each log (the node lists them newest first, every role). */
export function latestHeads(checkpoints: Checkpoint[]): Checkpoint[] {
  const seen = new Map<string, Checkpoint>();
  for (const c of checkpoints) {
    const cur = seen.get(c.origin);
    if (!cur || c.size > cur.size || (c.size === cur.size && c.id > cur.id)) seen.set(c.origin, c);
  }
  return [...seen.values()].sort((a, b) => a.origin.localeCompare(b.origin));
}

/** "2 of 2 (quorum 2)": how a head's co-signatures stand against its quorum. */
export function cosignSummary(c: Pick<Checkpoint, "cosigners" | "quorum">): { count: number; quorum: number; met: boolean } {
  return { count: c.cosigners.length, quorum: c.quorum, met: c.quorum > 0 && c.cosigners.length >= c.quorum };
}

export interface ContributionRow { org: string; shapley: number; leaveOneOut: number | null;
  alone: number | null; share: number | null }

/** One row per party, largest contribution first; ``share`` of the positive total when there
 * is one, ``alone``: the utility of that party's data alone when the report carries it. */
export function contributionRows(c: Contributions): ContributionRow[] {
  const positive = Object.values(c.scores).filter((v) => v > 0).reduce((a, b) => a + b, 0);
  return Object.entries(c.scores)
    .map(([org, shapley]) => ({
      org, shapley,
      leaveOneOut: c.leave_one_out[org] ?? null,
      alone: c.values[org] ?? null,
      share: positive > 0 && shapley > 0 ? shapley / positive : null,
    }))
    .sort((a, b) => b.shapley - a.shapley || a.org.localeCompare(b.org));
}

/** Contribution reports already in the log for a job (entries of kind ``contribution.scores``),
 * newest first. */
export function recordedContributions(entries: LedgerEntry[]): Contributions[] {
  return entries.filter((e) => e.kind === "contribution.scores")
    .sort((a, b) => b.seq - a.seq).map((e) => e.body as unknown as Contributions);
}

/** A hash cut for a table cell; the full value goes in the title. */
export function shortHash(h: string, n = 12): string {
  return h.length > n ? `${h.slice(0, n)}…` : h;
}
