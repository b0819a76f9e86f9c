// Browser tests of the UI against a real `skript serve` on loopback,
// driven by playwright-core in Debian's chromium. Screenshots go to
// web/test-results/. Run: npm run test:browser (SKRIPT_BIN names a built
// skript; else it is built from ../cmd/skript).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, "..", "test-results");
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "skript-ui-"));
const flag = join(work, "flag");

let server, browser, page, base;
const figures = {};

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

before(async () => {
  let bin = process.env.SKRIPT_BIN;
  if (!bin) {
    bin = join(work, "skript");
    execFileSync("go", ["build", "-o", bin, "./cmd/skript"], { cwd: join(here, "..", ".."), stdio: "inherit" });
  }
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["serve", "--addr", `127.0.0.1:${port}`, "--allow-action", "shell", "--workers", "4"], { stdio: ["ignore", "inherit", "inherit"] });
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not up yet */ }
    if (i > 100) throw new Error("skript serve did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  const exe = process.env.CHROMIUM ?? "/usr/bin/chromium";
  assert.ok(existsSync(exe), `${exe} missing: apt-get install -y chromium`);
  browser = await chromium.launch({ executablePath: exe, args: ["--headless", "--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // The CI machine is shared: waits are for things that do happen, so they
  // are long rather than tight.
  page.setDefaultTimeout(60000);
  page.on("pageerror", (e) => console.error("page error:", e.message));
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  console.log("figures:", JSON.stringify(figures));
});

// setSource types a whole workflow and waits for the compiler's verdict on it.
async function setSource(src) {
  await page.evaluate((s) => window.skriptEditor.setValue(s), src);
  await page.waitForFunction((s) => window.skriptLastCheck?.source === s, src);
}

let loads = 0;
async function openEditor() {
  await page.goto(`${base}/?load=${++loads}#/editor`); // a fresh page, not a same-document hash change
  await page.waitForFunction(() => window.skriptEditor && document.querySelector("[data-testid=problems]")?.dataset.count !== "-1", null, { timeout: 60000 });
}

const hello = `name: ui-hello
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
`;

test("first load: the editor with the compiler, compressed", async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  const cdp = await ctx.newCDPSession(p);
  await cdp.send("Network.enable");
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => { bytes += e.encodedDataLength; });
  await p.goto(`${base}/#/editor`);
  await p.waitForFunction(() => document.querySelector("[data-testid=problems]")?.dataset.count === "0", null, { timeout: 60000 });
  await p.waitForLoadState("networkidle");
  figures.firstLoadBytes = bytes;
  console.log(`first load of the editor: ${(bytes / 1e6).toFixed(2)} MB transferred`);
  await ctx.close();
});

test("start a run from the editor and watch its graph turn green", async () => {
  await openEditor();
  await setSource(hello);
  await page.waitForSelector("[data-testid=node-shout]");
  await page.waitForFunction(() => document.querySelector("[data-testid=problems]")?.dataset.count === "0");
  await page.screenshot({ path: join(shots, "editor.png") });
  await page.click("[data-testid=run]");
  await page.waitForURL(/#\/runs\/.+/);
  await page.waitForSelector("[data-testid=run-status][data-status=succeeded]");
  for (const id of ["greet", "left", "right", "shout", "big", "both"]) {
    // attached, not visible: React Flow keeps a node hidden until it has
    // measured it, which a loaded machine can delay past a redraw.
    await page.waitForSelector(`[data-testid="node-${id}"][data-status=succeeded]`, { state: "attached" });
  }
  await page.waitForSelector("[data-testid=gantt] .bar[data-status=succeeded]");
  await page.screenshot({ path: join(shots, "run-succeeded.png") });
  // The runs list shows it.
  await page.goto(`${base}/#/runs`);
  await page.waitForSelector(".run-row[data-status=succeeded]");
  await page.screenshot({ path: join(shots, "runs.png") });
  // The workflows page lists it with its version, and starts it again
  // from a form built from its declared inputs.
  await page.goto(`${base}/#/workflows`);
  await page.click('[data-testid="workflow-ui-hello"] code');
  await page.fill('[data-testid=inputs] input[name=who]', "you");
  await page.screenshot({ path: join(shots, "workflows.png") });
  await page.click("[data-testid=start]");
  await page.waitForURL(/#\/runs\/.+/);
  await page.waitForSelector("[data-testid=run-status][data-status=succeeded]");
  await page.waitForSelector('[data-testid="node-big"][data-status=succeeded]');
});

test("a typo gets a marker", async () => {
  await openEditor();
  await setSource(hello.replace("kind: Parallel", "kind: Paralel"));
  await page.waitForFunction(() => Number(document.querySelector("[data-testid=problems]")?.dataset.count) > 0);
  await page.waitForSelector(".squiggly-error");
  const text = await page.textContent("[data-testid=problems]");
  assert.match(text, /workflow\.yaml:10:\d+: .*Paralel/);
  await page.screenshot({ path: join(shots, "editor-typo.png") });
});

test("validating a 500-line workflow in the browser", async () => {
  await openEditor();
  let src = "name: big\nnodes:\n";
  for (let i = 0; src.split("\n").length < 500; i++) {
    src += `  - id: n${i}\n    kind: Action\n    action: set\n    params: {v: "\${{ ${i} + 1 }}"}\n`;
  }
  const lines = src.split("\n").length - 1;
  const ms = await page.evaluate((s) => {
    const times = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const r = JSON.parse(window.skript.validate(s, "big.yaml"));
      times.push(performance.now() - t0);
      if (r.errors.length) throw new Error(r.errors[0].text);
    }
    times.sort((a, b) => a - b);
    return { median: times[10], min: times[0], max: times[19] };
  }, src);
  figures.validate500 = { lines, ...ms };
  console.log(`validating ${lines} lines: median ${ms.median.toFixed(1)} ms (min ${ms.min.toFixed(1)}, max ${ms.max.toFixed(1)}) over 20 calls`);
});

const flaky = (f) => `name: ui-flaky
nodes:
  - {id: hello, kind: Action, action: log, params: {msg: "starting"}}
  - id: check
    kind: Action
    action: shell
    params:
      command: 'echo "looking for the flag"; test -f ${f} || { echo "no flag at ${f}" >&2; exit 3; }'
  - {id: done, kind: Action, action: log, params: {msg: "done"}}
`;

test("open a failed run's node, read its logs, retry from it", async () => {
  await openEditor();
  await setSource(flaky(flag));
  await page.waitForFunction(() => document.querySelector("[data-testid=problems]")?.dataset.count === "0");
  await page.click("[data-testid=run]");
  await page.waitForURL(/#\/runs\/.+/);
  await page.waitForSelector("[data-testid=run-status][data-status=failed]");
  const failed = new URL(page.url()).hash;
  await page.waitForSelector('[data-testid="node-check"][data-status=failed]');
  await page.click('[data-testid="node-check"]');
  await page.waitForSelector("[data-testid=node-panel]");
  await page.waitForFunction(() => /no flag at/.test(document.querySelector("[data-testid=node-logs]")?.textContent ?? ""), null);
  assert.match(await page.textContent("[data-testid=node-error]"), /exit|3/);
  await page.screenshot({ path: join(shots, "run-failed-node.png") });

  writeFileSync(flag, "ok");
  await page.click("[data-testid=retry-node]");
  await page.waitForFunction((h) => location.hash !== h && /#\/runs\//.test(location.hash), failed);
  await page.waitForSelector("[data-testid=run-status][data-status=succeeded]");
  await page.waitForSelector('[data-testid="node-done"][data-status=succeeded]');
  await page.screenshot({ path: join(shots, "run-retried.png") });
});
