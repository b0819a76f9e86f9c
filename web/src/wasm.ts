// The Skript compiler, compiled to WebAssembly (cmd/skript-wasm): the same
// checks as `skript validate`, run in the page as its user types.
import type { Graph } from "./graph";

export interface WasmProblem { line: number; col: number; message: string; text: string }
export interface DeclaredInput { name: string; type?: string; required?: boolean; default?: unknown; description?: string }
export interface Checked { errors: WasmProblem[]; graph: Graph | null; inputs: DeclaredInput[]; ms: number }

interface SkriptWasm { validate(src: string, file?: string, deny?: string[]): string }

let ready: Promise<SkriptWasm> | null = null;

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(s);
  });
}

/** loadCompiler fetches and starts the compiler once per page. */
export function loadCompiler(): Promise<SkriptWasm> {
  ready ??= (async () => {
    await loadScript("/wasm_exec.js");
    const go = new (window as any).Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch("/skript.wasm"), go.importObject);
    void go.run(instance); // main registers globalThis.skript, then waits for calls
    const sk = (window as any).skript as SkriptWasm | undefined;
    if (!sk) throw new Error("the compiler did not start");
    return sk;
  })();
  return ready;
}

/** check validates a workflow and draws its graph, timing the call. */
export async function check(src: string, file = "workflow.yaml", deny: string[] = []): Promise<Checked> {
  const sk = await loadCompiler();
  const t0 = performance.now();
  const res = JSON.parse(sk.validate(src, file, deny));
  const ms = performance.now() - t0;
  return { errors: res.errors ?? [], graph: res.graph ?? null, inputs: res.inputs ?? [], ms };
}
