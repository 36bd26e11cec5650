// The node's /api/v1 as typed fetch calls. The session token lives in sessionStorage (gone
// with the tab); every error is the node's RFC 9457 problem document, kept whole.

export const API = "/api/v1";
const TOKEN_KEY = "coalition.token";

export interface FieldProblem {
  path?: string;
  loc?: (string | number)[];
  message?: string;
  msg?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldProblem[] = [],
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  const token = getToken();
  if (token) h["Authorization"] = `Bearer ${token}`;
  if (json) h["Content-Type"] = "application/json";
  return h;
}

async function problem(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as Record<string, unknown>;
    return new ApiError(
      res.status,
      String(body["code"] ?? "http"),
      String(body["detail"] ?? body["title"] ?? res.statusText),
      Array.isArray(body["errors"]) ? (body["errors"] as FieldProblem[]) : [],
      (body["details"] as Record<string, unknown> | undefined) ?? {},
    );
  } catch {
    return new ApiError(res.status, "http", res.statusText);
  }
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(API + path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const err = await problem(res);
    if (res.status === 401 && path !== "/auth/login") {
      setToken(null);
      window.dispatchEvent(new Event("coalition:signed-out"));
    }
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T,>(path: string): Promise<T> => request<T>("GET", path);
export const post = <T,>(path: string, body: unknown = {}): Promise<T> =>
  request<T>("POST", path, body);
export const put = <T,>(path: string, body: unknown = {}): Promise<T> =>
  request<T>("PUT", path, body);
export const patch = <T,>(path: string, body: unknown = {}): Promise<T> =>
  request<T>("PATCH", path, body);
export const del = <T,>(path: string): Promise<T> => request<T>("DELETE", path);

/** POST a text body (an uploaded CSV the node parses) and read the JSON answer. */
export async function postText<T>(path: string, text: string, type = "text/csv"): Promise<T> {
  const res = await fetch(API + path, {
    method: "POST", headers: { ...headers(false), "Content-Type": type }, body: text,
  });
  if (!res.ok) throw await problem(res);
  return (await res.json()) as T;
}

/** Save a file the node serves (with the bearer token, which a plain link cannot send). */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(API + path, { headers: headers(false) });
  if (!res.ok) throw await problem(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Parse server-sent events from text chunks (the node's /jobs/{id}/events); pure, tested. */
export function sseParser(onEvent: (e: SseEvent) => void): (chunk: string) => void {
  let buffer = "";
  return (chunk: string) => {
    buffer += chunk;
    let cut = buffer.indexOf("\n\n");
    while (cut >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent({ event, data: data.join("\n") });
      cut = buffer.indexOf("\n\n");
    }
  };
}

/** Follow an event stream with the bearer token (EventSource cannot send one). */
export function stream(path: string, onEvent: (e: SseEvent) => void): () => void {
  const controller = new AbortController();
  void (async () => {
    try {
      const res = await fetch(API + path, { headers: headers(false), signal: controller.signal });
      if (!res.ok || !res.body) return;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const feed = sseParser(onEvent);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed(value);
      }
    } catch {
      // aborted or the node went away: the page falls back to polling
    }
  })();
  return () => controller.abort();
}

// Shapes of the node's answers the console reads (see the OpenAPI document at /docs).
export interface Me { username: string; role: string; permissions: string[]; via: string }
export interface NodeInfo { name: string; version: string; fingerprint: string; peer_address: string;
  cert_expires_at: string; crypto_suite: string }
export interface Partner {
  name: string; address: string; fingerprint: string; created_at: string;
  last_health_at: string | null; last_health_ok: boolean | null;
}
export interface Health { ok: boolean; partner: string; remote_name: string | null;
  remote_version: string | null; remote_suite: string | null; error: string | null }
export interface Column { name: string; dtype?: string; [k: string]: unknown }
export interface Dataset {
  name: string; kind: string; location: string; table: string | null; id_column: string;
  label_column: string | null; columns: Column[]; row_count: number; description: string;
  shared_with: string[]; created_by: string; created_at: string;
}
export interface Grant {
  id: number; dataset: string | null; partner: string | null; purpose: string;
  component_kinds: string[]; terms: Record<string, unknown>; valid_until: string;
  status: string; reason: string; decided_by: string | null; decided_at: string | null;
  created_at: string;
}
export interface PartyState { party: string; site: string; state: string; error: string;
  reported: boolean; at: string | null }
export interface Attempt { job_id: string; state: string; seconds: number | null;
  started_at: string | null; finished_at: string | null }
export interface TaskState { name: string; state: string; error: string; seconds: number | null;
  started_at: string | null; finished_at: string | null;
  parties?: PartyState[] | null; attempts?: Attempt[] | null }
export interface OrgAnswer { org: string; parties: string[]; status: string; reason: string }
export interface PartyReview { party: string; site: string; parameters: Record<string, unknown> }
export interface TaskReview { task: string; component: string; variant: string; parties: PartyReview[] }
export interface Job {
  id: string; name: string; initiator: string; state: string; error: string;
  rerun_of: string | null; sites: Record<string, string>; selection: Record<string, unknown>;
  created_by: string; created_at: string; updated_at: string; finished_at: string | null;
  organisations: OrgAnswer[]; tasks: TaskState[]; review?: TaskReview[] | null;
  dag?: Record<string, unknown> | null;
}
export interface LogLine { id: number; task: string | null; party: string | null; level: string;
  message: string; at: string }
export interface MetricPoint { id: number; task: string; party: string; name: string;
  step: number | null; value: number; at: string }
export interface Port { kind: string; roles: string[]; optional?: boolean; requires?: string | null;
  description: string }
export interface ComponentInfo {
  ref: string; name: string; version: string; category: string; description: string;
  roles: string[]; required_roles: string[]; inputs: Record<string, Port>;
  outputs: Record<string, Port>; parameters: Record<string, unknown>;
}
export interface DagProblem { path: string; task: string | null; message: string }
export interface Validation { valid: boolean; problems: DagProblem[]; order: string[] }
export interface ModelVersion {
  name: string; version: number; component: string; role: string; guest: string;
  job_id: string | null; task: string | null; metrics: Record<string, unknown>;
  description: string; [k: string]: unknown;
}
export interface Service { name: string; side: string; guest: string; model: string; version: number;
  component: string; hosts: Record<string, string>; source: string | null; timeout_ms: number }
export interface User { username: string; role: string; [k: string]: unknown }
export interface ApiKey { id: string; username: string; scopes: string[]; [k: string]: unknown }
export interface AuditEvent { id: number; at: string; actor: string; action: string;
  [k: string]: unknown }
export interface PsiTask { id: string; name: string; dataset: string; key_column: string; partner: string;
  partner_dataset: string; partner_key_column: string; protocol: string; receiver: string;
  created_by: string; created_at: string }
export interface PsiRun { id: number; task_id: string; job_id: string; state: string; error: string;
  protocol: string; started_by: string; started_at: string; finalised_at: string | null;
  wall_s: number | null; input_rows: number | null; intersection_size: number | null;
  wire_bytes: number | null; result_dataset: string | null; result_hash: string | null }
export interface PsiSchedule { id: number; task_id: string; cron: string; enabled: boolean;
  next_run_at: string; last_run_id: number | null; created_by: string; created_at: string }
