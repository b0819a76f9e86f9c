// The workflow's graph (compile --emit graph) drawn with React Flow, laid
// out by ELK's layered algorithm with groups (Parallel, Loop, Call) as
// compound nodes.
import { useEffect, useMemo, useState } from "react";
import { ReactFlow, Background, Controls, type Node, type Edge, MarkerType, Handle, Position, type NodeProps } from "@xyflow/react";
import ELK, { type ElkNode, type ElkExtendedEdge } from "elkjs/lib/elk.bundled.js";
import type { Status } from "./api";

export interface GraphNode {
  id: string; kind: string; label: string; parent?: string; group?: boolean; detail?: string; line?: number; col?: number;
}
export interface GraphEdge { from: string; to: string; label?: string }
export interface Graph { workflow: string; nodes: GraphNode[]; edges: GraphEdge[] }

const elk = new ELK();

export const statusColor: Record<string, string> = {
  pending: "#e5e7eb", running: "#93c5fd", succeeded: "#86efac", failed: "#fca5a5", cancelled: "#d6d3d1", skipped: "#f5f5f4",
};

function size(n: GraphNode) {
  if (n.kind === "Start" || n.kind === "End") return { width: 56, height: 28 };
  const text = Math.max(n.label.length, (n.detail ?? "").length);
  return { width: Math.min(260, Math.max(110, text * 7 + 24)), height: n.detail ? 46 : 32 };
}

type Data = { g: GraphNode; status?: Status; selected?: boolean };

function Box({ data }: NodeProps<Node<Data>>) {
  const { g, status } = data;
  const round = g.kind === "Start" || g.kind === "End" ? 14 : g.kind === "If" || g.kind === "Switch" ? 2 : 6;
  return (
    <div
      data-testid={`node-${g.id}`}
      data-status={status ?? ""}
      title={g.detail ? `${g.kind}: ${g.detail}` : g.kind}
      style={{
        width: "100%", height: "100%", boxSizing: "border-box", borderRadius: round,
        border: data.selected ? "2px solid #1d4ed8" : g.kind === "If" || g.kind === "Switch" ? "1px dashed #555" : "1px solid #777",
        background: g.group ? "transparent" : statusColor[status ?? ""] ?? "#fff",
        outline: g.group && status ? `3px solid ${statusColor[status]}` : undefined,
        fontSize: 12, padding: g.group ? "3px 8px" : "4px 8px", display: "flex", flexDirection: "column",
        justifyContent: g.group ? "flex-start" : "center", alignItems: g.group ? "flex-start" : "center",
      }}
    >
      <Handle type="target" position={Position.Top} style={{ opacity: 0 }} />
      <b>{g.kind === "If" || g.kind === "Switch" ? `◇ ${g.label}` : g.label}</b>
      {g.detail && <span style={{ color: "#555", fontSize: 11, whiteSpace: "nowrap", overflow: "hidden", maxWidth: "100%" }}>{g.detail}</span>}
      <Handle type="source" position={Position.Bottom} style={{ opacity: 0 }} />
    </div>
  );
}

const nodeTypes = { box: Box };

async function layout(g: Graph): Promise<{ nodes: Node<Data>[]; edges: Edge[] }> {
  const byId = new Map<string, ElkNode>();
  const roots: ElkNode[] = [];
  for (const n of g.nodes) {
    const e: ElkNode = n.group
      ? {
          id: n.id, children: [], layoutOptions: {
            "elk.padding": "[top=40,left=12,bottom=12,right=12]",
            ...(n.kind === "Parallel" ? { "elk.direction": "RIGHT" } : {}),
          },
        }
      : { id: n.id, ...size(n) };
    byId.set(n.id, e);
  }
  for (const n of g.nodes) {
    const e = byId.get(n.id)!;
    const p = n.parent ? byId.get(n.parent) : undefined;
    (p ? p.children! : roots).push(e);
  }
  const edges: ElkExtendedEdge[] = g.edges.map((e, i) => ({
    id: `e${i}`, sources: [e.from], targets: [e.to],
    labels: e.label ? [{ text: e.label, width: Math.min(300, e.label.length * 6.5), height: 14 }] : [],
  }));
  const root: ElkNode = {
    id: "root", children: roots, edges,
    layoutOptions: {
      "elk.algorithm": "layered", "elk.direction": "DOWN", "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.layered.spacing.nodeNodeBetweenLayers": "36", "elk.spacing.nodeNode": "24",
      "elk.edgeLabels.inline": "false",
    },
  };
  const out = await elk.layout(root);
  const nodes: Node<Data>[] = [];
  const walk = (n: ElkNode, parent?: string) => {
    for (const c of n.children ?? []) {
      const gn = g.nodes.find((x) => x.id === c.id)!;
      nodes.push({
        id: c.id, type: "box", position: { x: c.x ?? 0, y: c.y ?? 0 }, parentId: parent,
        data: { g: gn }, style: { width: c.width, height: c.height }, draggable: false,
        zIndex: gn.group ? 0 : 1,
      });
      walk(c, c.id);
    }
  };
  walk(out);
  const flowEdges: Edge[] = g.edges.map((e, i) => ({
    id: `e${i}`, source: e.from, target: e.to, label: e.label, zIndex: 2,
    markerEnd: { type: MarkerType.ArrowClosed }, labelStyle: { fontSize: 10 },
    labelBgStyle: { fill: "#fffbe8" },
  }));
  return { nodes, edges: flowEdges };
}

export interface GraphViewProps {
  graph: Graph | null;
  status?: Record<string, Status>;
  selected?: string;
  onSelect?: (id: string) => void;
  height?: number | string;
}

/** GraphView draws a workflow's graph, coloured by node status. */
export function GraphView({ graph, status, selected, onSelect, height = 480 }: GraphViewProps) {
  const [laid, setLaid] = useState<{ nodes: Node<Data>[]; edges: Edge[] } | null>(null);
  const key = useMemo(() => JSON.stringify(graph), [graph]);
  useEffect(() => {
    let live = true;
    if (graph) layout(graph).then((l) => live && setLaid(l)).catch(() => live && setLaid(null));
    return () => { live = false; };
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  const nodes = useMemo(
    () => (laid?.nodes ?? []).map((n) => ({ ...n, data: { ...n.data, status: status?.[n.id], selected: n.id === selected } })),
    [laid, status, selected],
  );
  return (
    <div style={{ height, border: "1px solid #ddd", borderRadius: 6, background: "#fafafa" }} data-testid="graph">
      {laid && (
        <ReactFlow
          nodes={nodes} edges={laid.edges} nodeTypes={nodeTypes} fitView minZoom={0.1}
          nodesConnectable={false} nodesDraggable={false} proOptions={{ hideAttribution: true }}
          onNodeClick={(_, n) => onSelect?.(n.id)}
        >
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      )}
    </div>
  );
}
