// Runs the WebAssembly compiler under Node as a page would: loads it with
// Go's wasm_exec.js and calls globalThis.skript.validate on each file,
// printing {file: Result} as JSON.
"use strict";
const [wasmExec, wasm, name, ...files] = process.argv.slice(2);
globalThis.require = require;
globalThis.fs = require("fs");
globalThis.path = require("path");
globalThis.TextEncoder = require("util").TextEncoder;
globalThis.TextDecoder = require("util").TextDecoder;
globalThis.performance ??= require("perf_hooks").performance;
globalThis.crypto ??= require("crypto");
require(wasmExec);
const go = new Go();
WebAssembly.instantiate(fs.readFileSync(wasm), go.importObject).then((r) => {
  void go.run(r.instance);
  const out = {};
  for (const f of files) out[f] = JSON.parse(globalThis.skript.validate(fs.readFileSync(f, "utf8"), name));
  process.stdout.write(JSON.stringify(out), () => process.exit(0));
}).catch((err) => { console.error(err); process.exit(1); });
