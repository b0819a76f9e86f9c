declare module "*?worker" {
  const W: { new (): Worker };
  export default W;
}
declare module "monaco-editor/esm/vs/editor/editor.api.js" {
  export * from "monaco-editor";
}
declare module "monaco-editor/esm/vs/*";
declare module "monaco-yaml/yaml.worker.js?worker";
