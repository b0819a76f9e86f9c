// Workflow sources this browser has run, kept by Blueprint hash, so a run's
// page can draw the workflow as written (a run keeps only its Blueprint).
export interface Saved { name: string; hash: string; source: string; saved: string }

const KEY = "skript.workflows";

export function savedWorkflows(): Saved[] {
  try { return JSON.parse(localStorage.getItem(KEY) ?? "[]"); } catch { return []; }
}

export function saveWorkflow(w: Saved) {
  const all = savedWorkflows().filter((x) => x.hash !== w.hash);
  all.unshift(w);
  localStorage.setItem(KEY, JSON.stringify(all.slice(0, 200)));
}

export function sourceOf(hash: string): string | undefined {
  return savedWorkflows().find((w) => w.hash === hash)?.source;
}
