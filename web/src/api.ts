// The HTTP API of `skript serve` (api/openapi.json), as the UI uses it.

export type Status = "pending" | "running" | "succeeded" | "failed" | "cancelled" | "skipped";

export interface Problem { file?: string; line?: number; col?: number; message: string }
export interface RunError { node: string; message: string }
export interface RunSummary {
  run_id: string; workflow: string; version?: string; status: Status;
  created_at: string; ended_at?: string; duration_seconds?: number;
  failed_node?: string; retry_of?: string; parent?: string;
}
export interface NodeResult {
  status: Status; output?: unknown; error?: RunError; attempts?: number;
  started_at?: string; finished_at?: string; reused?: boolean;
}
export interface Run {
  run_id: string; workflow: string; version?: string; hash: string; status: Status;
  inputs?: Record<string, unknown>; output?: unknown; error?: RunError;
  created_at: string; ended_at?: string; retry_of?: string;
}
export interface RunDetail extends Run { nodes: Record<string, NodeResult> }
export interface SkriptEvent {
  seq: number; time: string; type: string; node?: string; frame?: string; attempt?: number;
  record?: { frame: string; key: string; status: Status; output?: unknown; error?: RunError; attempts?: number; started?: string; finished?: string };
  level?: string; stream?: string; message?: string; at?: string;
}

/** ApiError carries the server's JSON error, positioned problems included. */
export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public errors: Problem[] = []) {
    super(message);
  }
}

const TOKEN_KEY = "skript.token";
export const token = {
  get: () => localStorage.getItem(TOKEN_KEY) ?? "",
  set: (t: string) => (t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY)),
};

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { Accept: "application/json", ...extra };
  const t = token.get();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data: any = undefined;
  try { data = text ? JSON.parse(text) : undefined; } catch { /* not JSON: reported below */ }
  if (!res.ok) {
    throw new ApiError(res.status, data?.code ?? "http_" + res.status, data?.message ?? text ?? res.statusText, data?.errors ?? []);
  }
  return data as T;
}

export interface ListFilter { workflow?: string; status?: string; since?: string; cursor?: string; limit?: number }

export const api = {
  listRuns(f: ListFilter) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== "") q.set(k, String(v));
    q.set("counts", "true");
    return call<{ runs: RunSummary[]; next?: string; counts?: Record<string, number> }>("GET", `/api/v1/runs?${q}`);
  },
  getRun: (id: string) => call<RunDetail>("GET", `/api/v1/runs/${encodeURIComponent(id)}`),
  startRun: (source: string, file: string, inputs: Record<string, unknown>, key?: string) =>
    call<Run>("POST", "/api/v1/runs", { workflow: { file, source }, inputs, ...(key ? { idempotency_key: key } : {}) }),
  cancelRun: (id: string) => call<unknown>("POST", `/api/v1/runs/${encodeURIComponent(id)}/cancel`, {}),
  retryRun: (id: string, from?: string) =>
    call<Run>("POST", `/api/v1/runs/${encodeURIComponent(id)}/retry`, from ? { from } : {}),
  events: (id: string, after = 0) =>
    call<{ events: SkriptEvent[]; last: number }>("GET", `/api/v1/runs/${encodeURIComponent(id)}/events?after=${after}&limit=1000`),
  logs: (id: string, node?: string) =>
    call<{ events: SkriptEvent[]; last: number }>("GET", `/api/v1/runs/${encodeURIComponent(id)}/logs${node ? `?node=${encodeURIComponent(node)}` : ""}`),
  validate: (source: string, file: string) =>
    call<{ valid: boolean; errors: Problem[] }>("POST", "/api/v1/validate", { file, source }),
};

/**
 * streamEvents follows a run's journal as Server-Sent Events. It uses
 * fetch rather than EventSource so that a bearer token can be sent, and
 * resumes after the last event seen (Last-Event-ID) when the connection
 * drops. It returns a function that stops the stream.
 */
export function streamEvents(id: string, onEvent: (e: SkriptEvent) => void, onEnd: () => void): () => void {
  const ctrl = new AbortController();
  let last = 0;
  let ended = false;
  const run = async () => {
    // A server ends long streams (its write timeout): reconnecting resumes
    // after the last event; only failures in a row give up.
    for (let failures = 0; !ctrl.signal.aborted && !ended && failures < 30; ) {
      try {
        const h = headers({ Accept: "text/event-stream" });
        if (last > 0) h["Last-Event-ID"] = String(last);
        const res = await fetch(`/api/v1/runs/${encodeURIComponent(id)}/events`, { headers: h, signal: ctrl.signal });
        if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
        failures = 0;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut: number;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const msg = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let type = "message", data = "", eid = "";
            for (const line of msg.split("\n")) {
              if (line.startsWith(":")) continue;
              const i = line.indexOf(":");
              const field = i < 0 ? line : line.slice(0, i);
              const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
              if (field === "event") type = val;
              else if (field === "data") data += (data ? "\n" : "") + val;
              else if (field === "id") eid = val;
            }
            if (eid) last = Number(eid) || last;
            if (type === "end") { ended = true; onEnd(); return; }
            if (data) {
              try { onEvent(JSON.parse(data)); } catch { /* a malformed message is skipped */ }
            }
          }
        }
      } catch {
        if (ctrl.signal.aborted) return;
        failures++;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void run();
  return () => ctrl.abort();
}
