// The runs list: filtered by workflow, status and time, kept up to date.
import { useEffect, useState } from "react";
import { api, type RunSummary } from "./api";
import { statusColor } from "./graph";

export function StatusBadge({ s }: { s: string }) {
  return <span className="badge" data-status={s} style={{ background: statusColor[s] ?? "#eee", padding: "1px 6px", borderRadius: 4 }}>{s}</span>;
}

export function ago(t?: string) {
  if (!t) return "";
  const s = (Date.now() - Date.parse(t)) / 1000;
  if (s < 60) return `${Math.max(0, Math.round(s))}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return new Date(t).toLocaleString();
}

export function RunsPage({ go, query }: { go: (p: string) => void; query: URLSearchParams }) {
  const [workflow, setWorkflow] = useState(query.get("workflow") ?? "");
  const [status, setStatus] = useState(query.get("status") ?? "");
  const [since, setSince] = useState(query.get("since") ?? "");
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [next, setNext] = useState<string | undefined>();
  const [more, setMore] = useState<RunSummary[]>([]);
  const [err, setErr] = useState("");

  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const l = await api.listRuns({ workflow, status, since, limit: 50 });
        if (!live) return;
        setRuns(l.runs); setCounts(l.counts ?? {}); setNext(l.next); setErr("");
      } catch (x) { if (live) setErr(String((x as Error).message)); }
    };
    void load();
    setMore([]);
    // Live: the first page is read again every two seconds.
    const t = setInterval(load, 2000);
    return () => { live = false; clearInterval(t); };
  }, [workflow, status, since]);

  const loadMore = async () => {
    const l = await api.listRuns({ workflow, status, since, limit: 50, cursor: next });
    setMore((m) => [...m, ...l.runs]); setNext(l.next);
  };

  const all = [...runs, ...more.filter((r) => !runs.some((x) => x.run_id === r.run_id))];
  return (
    <div>
      <div style={{ display: "flex", gap: 8, alignItems: "center", marginBottom: 8 }}>
        <input placeholder="workflow" value={workflow} onChange={(e) => setWorkflow(e.target.value)} data-testid="filter-workflow" />
        <select value={status} onChange={(e) => setStatus(e.target.value)} data-testid="filter-status">
          <option value="">any status</option>
          {["pending", "running", "succeeded", "failed", "cancelled", "skipped"].map((s) => <option key={s}>{s}</option>)}
        </select>
        <select value={since} onChange={(e) => setSince(e.target.value)} data-testid="filter-since">
          <option value="">any time</option>
          <option value="1h">last hour</option>
          <option value="24h">last day</option>
          <option value="168h">last week</option>
        </select>
        <span style={{ fontSize: 12, color: "#555" }}>
          {Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(" · ")}
        </span>
      </div>
      {err && <div style={{ color: "#b91c1c" }}>{err}</div>}
      <table data-testid="runs" style={{ width: "100%", borderCollapse: "collapse", fontSize: 13 }}>
        <thead><tr style={{ textAlign: "left" }}><th>run</th><th>workflow</th><th>status</th><th>started</th><th>took</th><th>failed node</th></tr></thead>
        <tbody>
          {all.map((r) => (
            <tr key={r.run_id} className="run-row" data-run={r.run_id} data-status={r.status}
              onClick={() => go(`/runs/${encodeURIComponent(r.run_id)}`)} style={{ cursor: "pointer", borderTop: "1px solid #eee" }}>
              <td><code>{r.run_id}</code>{r.retry_of && <small> (retry of {r.retry_of})</small>}</td>
              <td>{r.workflow}{r.version && <small> v{r.version}</small>}</td>
              <td><StatusBadge s={r.status} /></td>
              <td title={r.created_at}>{ago(r.created_at)}</td>
              <td>{r.duration_seconds !== undefined ? `${r.duration_seconds.toFixed(2)}s` : ""}</td>
              <td>{r.failed_node}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {all.length === 0 && !err && <p><i>No runs yet. Start one from the editor.</i></p>}
      {next && <button onClick={loadMore}>more</button>}
    </div>
  );
}
