import { StrictMode, Suspense, lazy, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import "@xyflow/react/dist/style.css";
import { RunsPage } from "./runs";
import { RunPage } from "./run";
import { WorkflowsPage } from "./workflows";
import { token } from "./api";

// Monaco is large: it loads with the editor page only.
const EditorPage = lazy(() => import("./editor").then((m) => ({ default: m.EditorPage })));

function useRoute(): [string, URLSearchParams, (p: string) => void] {
  const read = () => {
    const h = location.hash.replace(/^#/, "") || "/runs";
    const [path, q] = h.split("?");
    return [path, new URLSearchParams(q ?? "")] as const;
  };
  const [r, setR] = useState(read());
  useEffect(() => {
    const f = () => setR(read());
    window.addEventListener("hashchange", f);
    return () => window.removeEventListener("hashchange", f);
  }, []);
  return [r[0], r[1], (p: string) => { location.hash = p; }];
}

function App() {
  const [path, query, go] = useRoute();
  const [tok, setTok] = useState(token.get());
  const link = (p: string, label: string) => (
    <a href={`#${p}`} style={{ fontWeight: path.startsWith(p) ? "bold" : "normal", marginRight: 14 }}>{label}</a>
  );
  let page;
  const m = path.match(/^\/runs\/(.+)$/);
  if (m) page = <RunPage id={decodeURIComponent(m[1])} go={go} />;
  else if (path.startsWith("/editor")) page = <Suspense fallback={<p>loading the editor…</p>}><EditorPage go={go} /></Suspense>;
  else if (path.startsWith("/workflows")) page = <WorkflowsPage go={go} />;
  else page = <RunsPage go={go} query={query} />;
  return (
    <div style={{ fontFamily: "system-ui, sans-serif", margin: "0 16px" }}>
      <nav style={{ display: "flex", alignItems: "center", padding: "8px 0", borderBottom: "1px solid #ddd", marginBottom: 10 }}>
        <b style={{ marginRight: 20 }}>Skript</b>
        {link("/runs", "Runs")}{link("/workflows", "Workflows")}{link("/editor", "Editor")}
        <span style={{ marginLeft: "auto", fontSize: 12 }}>
          token <input type="password" value={tok} placeholder="(loopback: none)" style={{ width: 140 }}
            onChange={(e) => { setTok(e.target.value); token.set(e.target.value); }} />
        </span>
      </nav>
      {page}
    </div>
  );
}

createRoot(document.getElementById("root")!).render(<StrictMode><App /></StrictMode>);
