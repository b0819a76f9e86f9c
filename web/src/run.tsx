// A run: its workflow's graph coloured live from the event stream, a
// timeline of every step and attempt, and a side panel per node.
import { useEffect, useMemo, useState } from "react";
import { api, streamEvents, type RunDetail, type SkriptEvent, type Status } from "./api";
import { GraphView, statusColor, type Graph } from "./graph";
import { check } from "./wasm";
import { sourceOf } from "./store";
import { StatusBadge, ago } from "./runs";

const ended = (s?: string) => s === "succeeded" || s === "failed" || s === "cancelled";

// rank orders statuses so a node seen in several loop iterations shows the
// one that matters most.
const rank: Record<string, number> = { failed: 6, running: 5, cancelled: 4, pending: 3, succeeded: 2, skipped: 1 };

function statusFrom(run: RunDetail | null, events: SkriptEvent[]): Record<string, Status> {
  const perFrame = new Map<string, Map<string, Status>>();
  if (run) for (const [id, n] of Object.entries(run.nodes ?? {})) perFrame.set(id, new Map([["", n.status]]));
  for (const e of events) {
    const st = e.record?.status ?? (e.type === "step.started" ? "running" : e.type === "step.succeeded" ? "succeeded"
      : e.type === "step.failed" ? "failed" : e.type === "step.cancelled" ? "cancelled" : undefined);
    if (!e.node || !st) continue;
    let m = perFrame.get(e.node);
    if (!m) perFrame.set(e.node, (m = new Map()));
    m.delete("");
    m.set(e.frame ?? "", st);
  }
  const out: Record<string, Status> = {};
  for (const [id, m] of perFrame) {
    let best: Status | undefined;
    for (const s of m.values()) if (!best || (rank[s] ?? 0) > (rank[best] ?? 0)) best = s;
    if (best) out[id] = best;
  }
  if (run?.status === "succeeded") { out["(start)"] = "succeeded"; out["(end)"] = "succeeded"; }
  else if (run) out["(start)"] = "succeeded";
  return out;
}

interface Bar { node: string; frame: string; attempt: number; start: number; end?: number; status: string }

// bars are the steps and attempts of a run, from the records its events
// carry (a step the runtime ran inline reports no start of its own).
function bars(events: SkriptEvent[]): Bar[] {
  const byKey = new Map<string, Bar>();
  for (const e of events) {
    const r = e.record;
    if (!e.node || !r || e.node.includes("#")) continue; // "#": the runtime's own records
    const attempt = e.attempt ?? r.attempts ?? 1;
    const k = `${e.node}\x00${e.frame ?? ""}\x00${attempt}`;
    const start = Date.parse(r.started ?? e.time);
    let b = byKey.get(k);
    if (!b) byKey.set(k, (b = { node: e.node, frame: e.frame ?? "", attempt, start, status: r.status }));
    b.status = e.type === "retry.scheduled" ? "failed" : r.status;
    if (r.status !== "running" && r.status !== "pending") b.end = Date.parse(r.finished ?? e.time);
    else if (e.type === "retry.scheduled") b.end = Date.parse(e.time);
  }
  return [...byKey.values()].sort((a, b) => a.start - b.start);
}

function Gantt({ events, onSelect }: { events: SkriptEvent[]; onSelect: (n: string) => void }) {
  const bs = bars(events);
  if (bs.length === 0) return <p><i>No step has started yet.</i></p>;
  const now = Date.now();
  const t0 = Math.min(...bs.map((b) => b.start));
  const t1 = Math.max(...bs.map((b) => b.end ?? now), t0 + 1);
  const span = t1 - t0;
  return (
    <div data-testid="gantt" style={{ fontSize: 12 }}>
      {bs.map((b, i) => (
        <div key={i} style={{ display: "grid", gridTemplateColumns: "200px 1fr 70px", alignItems: "center", height: 18 }}
          onClick={() => onSelect(b.node)}>
          <span style={{ overflow: "hidden", whiteSpace: "nowrap" }} title={b.frame}>
            {b.node}{b.frame && <small style={{ color: "#666" }}> {b.frame}</small>}{b.attempt > 1 && <small> #{b.attempt}</small>}
          </span>
          <div style={{ position: "relative", height: 12, background: "#f3f4f6" }}>
            <div className="bar" data-status={b.status} style={{
              position: "absolute", left: `${((b.start - t0) / span) * 100}%`,
              width: `${Math.max(0.5, (((b.end ?? now) - b.start) / span) * 100)}%`, height: "100%",
              background: statusColor[b.status] ?? "#ccc", border: "1px solid #999", boxSizing: "border-box",
            }} />
          </div>
          <span style={{ textAlign: "right" }}>{(((b.end ?? now) - b.start) / 1000).toFixed(3)}s</span>
        </div>
      ))}
    </div>
  );
}

function Json({ v }: { v: unknown }) {
  return <pre style={{ background: "#f6f6f6", padding: 6, maxHeight: 200, overflow: "auto", margin: 0 }}>{JSON.stringify(v, null, 2)}</pre>;
}

function NodePanel({ run, node, events, onRetry }: {
  run: RunDetail; node: string; events: SkriptEvent[]; onRetry: (from: string) => void;
}) {
  const [logs, setLogs] = useState<SkriptEvent[] | null>(null);
  const res = run.nodes?.[node];
  const attempts = events.filter((e) => e.node === node && (e.type.startsWith("step.") || e.type === "retry.scheduled"));
  useEffect(() => {
    let live = true;
    setLogs(null);
    api.logs(run.run_id, node).then((l) => live && setLogs(l.events)).catch(() => live && setLogs([]));
    return () => { live = false; };
  }, [run.run_id, node, run.status, events.length]);
  return (
    <aside data-testid="node-panel" style={{ borderLeft: "1px solid #ddd", paddingLeft: 12, fontSize: 13 }}>
      <h3 style={{ marginTop: 0 }}>{node} {res && <StatusBadge s={res.status} />}</h3>
      {ended(run.status) && !node.startsWith("(") && (
        <button data-testid="retry-node" onClick={() => onRetry(node)}>↻ Retry from {node}</button>
      )}
      {!res && <p><i>This node has not run.</i></p>}
      {res && (
        <>
          <p>attempts: {res.attempts ?? 0}{res.reused && " (kept from the run retried)"}
            {res.started_at && <> · started {ago(res.started_at)}</>}</p>
          <h4>Inputs</h4>
          <Json v={run.inputs ?? {}} />
          {res.error && (<><h4>Error</h4><pre data-testid="node-error" style={{ color: "#b91c1c", whiteSpace: "pre-wrap" }}>{res.error.message}</pre></>)}
          <h4>Output</h4>
          <Json v={res.output ?? null} />
        </>
      )}
      <h4>Attempts</h4>
      <ul style={{ paddingLeft: 16 }}>
        {attempts.map((e) => (
          <li key={e.seq}>{new Date(e.time).toLocaleTimeString()} {e.type}{e.attempt ? ` #${e.attempt}` : ""}{e.frame ? ` ${e.frame}` : ""}
            {e.record?.error && <span style={{ color: "#b91c1c" }}> — {e.record.error.message}</span>}</li>
        ))}
      </ul>
      <h4>Logs</h4>
      <pre data-testid="node-logs" style={{ background: "#111", color: "#eee", padding: 6, maxHeight: 240, overflow: "auto", whiteSpace: "pre-wrap" }}>
        {logs === null ? "…" : logs.length === 0 ? "(no logs)" : logs.map((l) => `${l.stream ?? l.level ?? ""} ${l.message ?? ""}`).join("\n")}
      </pre>
    </aside>
  );
}

/** flatGraph draws a run's nodes alone when its source is not known here. */
function flatGraph(run: RunDetail): Graph {
  const ids = Object.keys(run.nodes ?? {}).sort((a, b) =>
    (run.nodes[a].started_at ?? "").localeCompare(run.nodes[b].started_at ?? ""));
  return {
    workflow: run.workflow,
    nodes: ids.map((id) => ({ id, kind: "Action", label: id })),
    edges: ids.slice(1).map((id, i) => ({ from: ids[i], to: id })),
  };
}

export function RunPage({ id, go }: { id: string; go: (p: string) => void }) {
  const [run, setRun] = useState<RunDetail | null>(null);
  const [events, setEvents] = useState<SkriptEvent[]>([]);
  const [graph, setGraph] = useState<Graph | null>(null);
  const [exact, setExact] = useState(true);
  const [selected, setSelected] = useState<string | undefined>();
  const [err, setErr] = useState("");

  useEffect(() => {
    let live = true;
    setRun(null); setEvents([]); setGraph(null); setSelected(undefined);
    const refresh = () => api.getRun(id).then((r) => live && setRun(r)).catch((x) => live && setErr(String(x.message ?? x)));
    void refresh();
    let pending: SkriptEvent[] = [];
    let t = 0;
    const stop = streamEvents(id, (e) => {
      pending.push(e);
      if (!t) t = window.setTimeout(() => {
        const batch = pending; pending = []; t = 0;
        if (!live) return;
        setEvents((old) => [...old, ...batch.filter((b) => !old.some((o) => o.seq === b.seq))]);
        if (batch.some((b) => b.type.startsWith("step.") || b.type.startsWith("run."))) void refresh();
      }, 100);
    }, () => void refresh());
    return () => { live = false; stop(); clearTimeout(t); };
  }, [id]);

  useEffect(() => {
    if (!run || graph) return;
    const src = sourceOf(run.hash);
    if (src) check(src).then((c) => { setGraph(c.graph); setExact(true); }).catch(() => { setGraph(flatGraph(run)); setExact(false); });
    else { setGraph(flatGraph(run)); setExact(false); }
  }, [run, graph]);

  const status = useMemo(() => statusFrom(run, events), [run, events]);

  if (err) return <p style={{ color: "#b91c1c" }}>{err}</p>;
  if (!run) return <p>loading…</p>;
  const retry = async (from?: string) => {
    const r = await api.retryRun(run.run_id, from);
    go(`/runs/${encodeURIComponent(r.run_id)}`);
  };
  return (
    <div>
      <div style={{ display: "flex", gap: 12, alignItems: "center" }}>
        <h2 style={{ margin: "4px 0" }}><code data-testid="run-id">{run.run_id}</code></h2>
        <span data-testid="run-status" data-status={run.status}><StatusBadge s={run.status} /></span>
        <span>{run.workflow}{run.version && ` v${run.version}`} · {ago(run.created_at)}</span>
        {run.retry_of && <a href={`#/runs/${encodeURIComponent(run.retry_of)}`}>retry of {run.retry_of}</a>}
        {!ended(run.status) && <button data-testid="cancel" onClick={() => api.cancelRun(run.run_id).then(() => api.getRun(id).then(setRun))}>■ Cancel</button>}
        {ended(run.status) && <button data-testid="retry" onClick={() => retry()}>↻ Retry</button>}
      </div>
      {run.error && <p style={{ color: "#b91c1c" }}>failed at <b>{run.error.node}</b>: {run.error.message}</p>}
      {!exact && <p style={{ fontSize: 12, color: "#666" }}>This browser has not seen the workflow's source: its nodes are drawn in the order they ran.</p>}
      <div style={{ display: "grid", gridTemplateColumns: selected ? "minmax(0,2fr) minmax(0,1fr)" : "1fr", gap: 12 }}>
        <GraphView graph={graph} status={status} selected={selected} onSelect={setSelected} height={460} />
        {selected && <NodePanel run={run} node={selected} events={events} onRetry={retry} />}
      </div>
      <h3>Timeline</h3>
      <Gantt events={events} onSelect={setSelected} />
      {ended(run.status) && run.output !== undefined && (<><h3>Output</h3><Json v={run.output} /></>)}
    </div>
  );
}
