import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "/",
  resolve: {
    // monaco-yaml imports the whole of monaco-editor (every language);
    // the editor API alone is what the page needs.
    alias: [{ find: /^monaco-editor$/, replacement: "monaco-editor/esm/vs/editor/editor.api.js" }],
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  worker: { format: "es" },
  server: { proxy: { "/api": "http://127.0.0.1:8080", "/healthz": "http://127.0.0.1:8080" } },
});
