// Drafts and submitted documents, kept in this browser (localStorage).
import type { DagDoc } from "./dag";

const DRAFTS = "coalition.drafts";
const SUBMITTED = "coalition.submitted.";

export interface Draft { name: string; savedAt: string; doc: DagDoc; positions: Record<string, { x: number; y: number }> }

export function listDrafts(): Draft[] {
  try {
    return JSON.parse(localStorage.getItem(DRAFTS) ?? "[]") as Draft[];
  } catch {
    return [];
  }
}

export function saveDraft(draft: Draft): void {
  const rest = listDrafts().filter((d) => d.name !== draft.name);
  localStorage.setItem(DRAFTS, JSON.stringify([draft, ...rest].slice(0, 20)));
}

export function rememberSubmitted(jobId: string, doc: DagDoc): void {
  localStorage.setItem(SUBMITTED + jobId, JSON.stringify(doc));
}

export function submittedDag(jobId: string): DagDoc | null {
  const text = localStorage.getItem(SUBMITTED + jobId);
  return text ? (JSON.parse(text) as DagDoc) : null;
}
