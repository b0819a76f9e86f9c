// A form built from a workflow's declared inputs.
import type { DeclaredInput } from "./wasm";

function parse(type: string | undefined, raw: string): unknown {
  switch (type) {
    case "integer": case "number": return raw === "" ? undefined : Number(raw);
    case "boolean": return raw === "true";
    case "list": case "map":
      try { return JSON.parse(raw); } catch { return raw; }
    case "string": return raw;
  }
  try { return JSON.parse(raw); } catch { return raw; }
}

function show(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function InputsForm({ inputs, value, onChange }: {
  inputs: DeclaredInput[]; value: Record<string, unknown>; onChange: (v: Record<string, unknown>) => void;
}) {
  if (inputs.length === 0) return null;
  return (
    <fieldset style={{ marginTop: 8, fontSize: 13 }} data-testid="inputs">
      <legend>Inputs</legend>
      {inputs.map((i) => (
        <label key={i.name} style={{ display: "grid", gridTemplateColumns: "140px 1fr", gap: 8, marginBottom: 4 }}>
          <span title={i.description}>{i.name}{i.required ? " *" : ""} <small style={{ color: "#666" }}>{i.type ?? "any"}</small></span>
          {i.type === "boolean" ? (
            <input type="checkbox" checked={Boolean(value[i.name] ?? i.default)}
              onChange={(e) => onChange({ ...value, [i.name]: e.target.checked })} />
          ) : (
            <input name={i.name} placeholder={show(i.default)} value={show(value[i.name])}
              onChange={(e) => {
                const v = { ...value };
                if (e.target.value === "") delete v[i.name]; else v[i.name] = parse(i.type, e.target.value);
                onChange(v);
              }} />
          )}
        </label>
      ))}
    </fieldset>
  );
}
