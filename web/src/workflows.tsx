// Workflows: those this browser has run (their versions by Blueprint hash)
// and those seen in the runs list; start a run from a form built from the
// declared inputs.
import { useEffect, useState } from "react";
import { api } from "./api";
import { savedWorkflows, type Saved } from "./store";
import { check, type DeclaredInput } from "./wasm";
import { InputsForm } from "./inputs";
import { ago } from "./runs";

function StartForm({ w, go }: { w: Saved; go: (p: string) => void }) {
  const [declared, setDeclared] = useState<DeclaredInput[]>([]);
  const [inputs, setInputs] = useState<Record<string, unknown>>({});
  const [err, setErr] = useState("");
  useEffect(() => { check(w.source).then((c) => setDeclared(c.inputs)).catch((x) => setErr(String(x))); }, [w.hash]);
  const start = async () => {
    try {
      const r = await api.startRun(w.source, "workflow.yaml", inputs);
      go(`/runs/${encodeURIComponent(r.run_id)}`);
    } catch (x) { setErr(String((x as Error).message)); }
  };
  return (
    <div style={{ padding: 8, background: "#f8fafc" }}>
      <InputsForm inputs={declared} value={inputs} onChange={setInputs} />
      <button data-testid="start" onClick={start}>▶ Start</button>{" "}
      <button onClick={() => { sessionStorage.setItem("skript.open", w.source); go("/editor"); }}>Open in editor</button>
      {err && <pre style={{ color: "#b91c1c" }}>{err}</pre>}
    </div>
  );
}

export function WorkflowsPage({ go }: { go: (p: string) => void }) {
  const [seen, setSeen] = useState<Record<string, { runs: number; last: string; versions: Set<string> }>>({});
  const [open, setOpen] = useState<string | null>(null);
  const saved = savedWorkflows();
  useEffect(() => {
    api.listRuns({ limit: 1000 }).then((l) => {
      const m: typeof seen = {};
      for (const r of l.runs) {
        const e = (m[r.workflow] ??= { runs: 0, last: r.created_at, versions: new Set() });
        e.runs++;
        if (r.version) e.versions.add(r.version);
        if (r.created_at > e.last) e.last = r.created_at;
      }
      setSeen(m);
    }).catch(() => setSeen({}));
  }, []);
  const names = [...new Set([...saved.map((s) => s.name), ...Object.keys(seen)])].sort();
  return (
    <div>
      {names.length === 0 && <p><i>No workflow yet: write one in the editor and run it.</i></p>}
      {names.map((name) => {
        const versions = saved.filter((s) => s.name === name);
        const s = seen[name];
        return (
          <section key={name} style={{ borderTop: "1px solid #eee", padding: "6px 0" }} data-testid={`workflow-${name}`}>
            <b>{name}</b>{" "}
            <small>{s ? `${s.runs} recent run${s.runs === 1 ? "" : "s"}, last ${ago(s.last)}` : ""}</small>{" "}
            <a href={`#/runs?workflow=${encodeURIComponent(name)}`}>runs</a>
            <ul>
              {versions.map((v) => (
                <li key={v.hash}>
                  <code onClick={() => setOpen(open === v.hash ? null : v.hash)} style={{ cursor: "pointer" }}>{v.hash.slice(0, 12)}</code>{" "}
                  <small>saved {ago(v.saved)}</small>
                  {open === v.hash && <StartForm w={v} go={go} />}
                </li>
              ))}
              {versions.length === 0 && <li><small>its source has not been run from this browser</small></li>}
            </ul>
          </section>
        );
      })}
    </div>
  );
}
