// Writes NAME.br and NAME.gz beside every compressible file of a build,
// and keeps the compiler's WebAssembly only compressed (the Go handler
// inflates it for a client that accepts neither). Prints the sizes.
import { readdirSync, readFileSync, writeFileSync, statSync, unlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const root = process.argv[2] ?? "dist";
const compressible = /\.(js|mjs|css|html|wasm|json|svg|ttf|map)$/;
const rows = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { walk(p); continue; }
    if (!compressible.test(name)) continue;
    const raw = readFileSync(p);
    const br = brotliCompressSync(raw, { params: {
      [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      [constants.BROTLI_PARAM_LGWIN]: 24,
    } });
    const gz = gzipSync(raw, { level: 9 });
    writeFileSync(p + ".br", br);
    writeFileSync(p + ".gz", gz);
    if (name === "skript.wasm") unlinkSync(p);
    rows.push([relative(root, p), raw.length, gz.length, br.length]);
  }
};
walk(root);
const total = rows.reduce((a, r) => [a[0] + r[1], a[1] + r[2], a[2] + r[3]], [0, 0, 0]);
for (const r of rows) console.log(`${r[0].padEnd(48)} ${String(r[1]).padStart(9)} raw ${String(r[2]).padStart(9)} gzip ${String(r[3]).padStart(9)} br`);
console.log(`${"total".padEnd(48)} ${String(total[0]).padStart(9)} raw ${String(total[1]).padStart(9)} gzip ${String(total[2]).padStart(9)} br`);
