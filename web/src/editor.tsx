// The workflow editor: Monaco with monaco-yaml fed the language's JSON
// Schema (completion, hover), validated as its user types by the compiler
// compiled to WebAssembly, with a live graph preview and a Run button.
import { useEffect, useRef, useState } from "react";
import * as monaco from "monaco-editor/esm/vs/editor/editor.api.js";
import "monaco-editor/esm/vs/basic-languages/yaml/yaml.contribution.js";
import "monaco-editor/esm/vs/editor/contrib/hover/browser/hoverContribution.js";
import "monaco-editor/esm/vs/editor/contrib/suggest/browser/suggestController.js";
import { configureMonacoYaml } from "monaco-yaml";
import EditorWorker from "monaco-editor/esm/vs/editor/editor.worker.js?worker";
import YamlWorker from "monaco-yaml/yaml.worker.js?worker";
import schema from "../../docs/skript.schema.json";
import { check, type WasmProblem, type DeclaredInput } from "./wasm";
import { GraphView, type Graph } from "./graph";
import { api, ApiError } from "./api";
import { InputsForm } from "./inputs";
import { saveWorkflow } from "./store";

(self as any).MonacoEnvironment = {
  getWorker(_: unknown, label: string) {
    return label === "yaml" ? new YamlWorker() : new EditorWorker();
  },
};

const FILE = "workflow.yaml";
const model = monaco.Uri.parse(`file:///${FILE}`);
configureMonacoYaml(monaco, {
  enableSchemaRequest: false,
  validate: false, // the compiler's markers say more, and say it the same way as the CLI
  hover: true,
  completion: true,
  schemas: [{ uri: "https://skript.dev/skript.schema.json", fileMatch: ["*"], schema: schema as any }],
});

export const SAMPLE = `name: hello
description: Greet, fan out and combine.
inputs:
  who: {type: string, default: world}
nodes:
  - id: greet
    kind: Action
    action: log
    params: {msg: "hello \${{ input.who }}"}
  - id: both
    kind: Parallel
    branches:
      - - {id: left, kind: Action, action: set, params: {side: left}}
      - - {id: right, kind: Action, action: set, params: {side: right}}
  - id: big
    kind: If
    condition: input.who == "world"
    then:
      - {id: shout, kind: Action, action: log, params: {msg: "hello everyone"}}
output: "\${{ map(nodes.both.output, #.side) }}"
`;

const DRAFT = "skript.draft";

export function EditorPage({ go }: { go: (path: string) => void }) {
  const host = useRef<HTMLDivElement>(null);
  const ed = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const [problems, setProblems] = useState<WasmProblem[]>([]);
  const [graph, setGraph] = useState<Graph | null>(null);
  const [ms, setMs] = useState<number | null>(null);
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  const [declared, setDeclared] = useState<DeclaredInput[]>([]);
  const [inputs, setInputs] = useState<Record<string, unknown>>({});

  useEffect(() => {
    const initial = sessionStorage.getItem("skript.open") ?? localStorage.getItem(DRAFT) ?? SAMPLE;
    sessionStorage.removeItem("skript.open");
    const m = monaco.editor.getModel(model) ?? monaco.editor.createModel(initial, "yaml", model);
    if (m.getValue() !== initial) m.setValue(initial);
    const e = monaco.editor.create(host.current!, {
      model: m, automaticLayout: true, minimap: { enabled: false }, fontSize: 13, tabSize: 2,
      scrollBeyondLastLine: false, quickSuggestions: { other: true, comments: false, strings: true },
    });
    ed.current = e;
    (window as any).skriptEditor = e; // for the browser tests and the console
    let timer = 0;
    let gen = 0;
    const run = async () => {
      const src = m.getValue();
      const mine = ++gen;
      localStorage.setItem(DRAFT, src);
      const res = await check(src, FILE);
      if (mine !== gen) return;
      setReady(true);
      setMs(res.ms);
      setProblems(res.errors);
      setDeclared(res.inputs);
      if (res.graph) setGraph(res.graph);
      monaco.editor.setModelMarkers(m, "skript", res.errors.map((p) => {
        const line = Math.max(1, p.line || 1);
        const col = Math.max(1, p.col || 1);
        const word = m.getWordAtPosition({ lineNumber: line, column: col });
        return {
          severity: monaco.MarkerSeverity.Error, message: p.message, source: "skript",
          startLineNumber: line, startColumn: col, endLineNumber: line,
          endColumn: word ? word.endColumn : m.getLineMaxColumn(Math.min(line, m.getLineCount())),
        };
      }));
      (window as any).skriptLastCheck = { ms: res.ms, errors: res.errors, source: src };
    };
    void run().catch((x) => setErr(String(x)));
    const sub = m.onDidChangeContent(() => {
      clearTimeout(timer);
      timer = window.setTimeout(() => void run().catch((x) => setErr(String(x))), 120);
    });
    return () => { sub.dispose(); e.dispose(); clearTimeout(timer); };
  }, []);

  const start = async () => {
    setBusy(true); setErr("");
    try {
      const src = ed.current!.getValue();
      const run = await api.startRun(src, FILE, inputs);
      saveWorkflow({ name: run.workflow, hash: run.hash, source: src, saved: new Date().toISOString() });
      go(`/runs/${encodeURIComponent(run.run_id)}`);
    } catch (x) {
      if (x instanceof ApiError && x.errors.length) setErr(x.errors.map((p) => `${p.line}:${p.col}: ${p.message}`).join("\n"));
      else setErr(String((x as Error).message ?? x));
    } finally { setBusy(false); }
  };

  const goTo = (p: WasmProblem) => {
    ed.current?.revealLineInCenter(p.line || 1);
    ed.current?.setPosition({ lineNumber: p.line || 1, column: p.col || 1 });
    ed.current?.focus();
  };

  return (
    <div style={{ display: "grid", gridTemplateColumns: "minmax(0,1fr) minmax(0,1fr)", gap: 12 }}>
      <div>
        <div ref={host} style={{ height: 520, border: "1px solid #ddd" }} data-testid="editor" />
        <div data-testid="problems" data-count={ready ? problems.length : -1} style={{ fontSize: 13, marginTop: 6 }}>
          {!ready ? <i>loading the compiler…</i> : problems.length === 0
            ? <span style={{ color: "#15803d" }}>✓ valid{ms !== null && ` (checked in ${ms.toFixed(1)} ms)`}</span>
            : problems.map((p, i) => (
              <div key={i} className="problem" onClick={() => goTo(p)} style={{ color: "#b91c1c", cursor: "pointer" }}>
                {p.text}
              </div>
            ))}
        </div>
      </div>
      <div>
        <GraphView graph={graph} height={380} />
        <InputsForm inputs={declared} value={inputs} onChange={setInputs} />
        <button data-testid="run" disabled={busy || problems.length > 0 || !ready} onClick={start} style={{ marginTop: 8 }}>
          ▶ Run
        </button>
        {err && <pre style={{ color: "#b91c1c", whiteSpace: "pre-wrap" }}>{err}</pre>}
      </div>
    </div>
  );
}
