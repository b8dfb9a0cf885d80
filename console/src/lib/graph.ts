// The workflow's nodes (flat: each names its branching `upstream` and `branchIndex`) as a
// graph: chains in order, each branching node pointing at its branches' first nodes and at
// the node after it, laid out top to bottom by dagre.
import { Graph, layout } from "@dagrejs/dagre";
import type { NodeFieldsFragment } from "../graphql/generated";

export type FlatNode = NodeFieldsFragment;

export const START = "\u0000trigger";
export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 48;

export interface Slot {
  upstream: string | null;
  branchIndex: number | null;
  label: string;
}

export interface Placed {
  key: string;
  x: number;
  y: number;
  node: FlatNode | null; // null: the trigger
}

export interface PlacedEdge {
  from: string;
  to: string;
  label: string;
  points: { x: number; y: number }[];
}

export interface Layout {
  nodes: Placed[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

function chainKey(upstream: string | null, branchIndex: number | null): string {
  return `${upstream ?? ""}#${branchIndex ?? ""}`;
}

/** The nodes of each chain, in order ("#" is the main chain). */
export function chains(nodes: FlatNode[]): Map<string, FlatNode[]> {
  const found = new Map<string, FlatNode[]>();
  for (const node of nodes) {
    const key = chainKey(node.upstream, node.branchIndex);
    found.set(key, [...(found.get(key) ?? []), node]);
  }
  return found;
}

/** What a branch is called: true/false, a condition's title, the loop body, branch n. */
export function branchLabel(node: FlatNode, index: number): string {
  const config = (node.config ?? {}) as Record<string, unknown>;
  switch (node.type) {
    case "condition":
      return index === 1 ? "true" : "false";
    case "multi-conditions": {
      if (index === 0) return "no match";
      const conditions = Array.isArray(config.conditions) ? config.conditions : [];
      const title = (conditions[index - 1] as { title?: string } | undefined)?.title;
      return title ? `${index}: ${title}` : `condition ${index}`;
    }
    case "loop":
      return "each item";
    default:
      return `branch ${index}`;
  }
}

/** The branch indices a node offers (for placing a new node), existing ones included. */
export function branchIndices(node: FlatNode, nodes: FlatNode[]): number[] {
  const config = (node.config ?? {}) as Record<string, unknown>;
  const used = nodes.filter((n) => n.upstream === node.key).map((n) => n.branchIndex ?? 0);
  let offered: number[] = [];
  if (node.type === "condition") offered = config.rejectOnFalse === false ? [1, 0] : [];
  else if (node.type === "multi-conditions") {
    const count = Array.isArray(config.conditions) ? config.conditions.length : 0;
    offered = [...Array.from({ length: count }, (_, i) => i + 1), 0];
  } else if (node.type === "loop") offered = [0];
  else if (node.type === "parallel") offered = [...new Set(used), Math.max(0, ...used) + 1];
  return [...new Set([...offered, ...used])];
}

/** Every place a node can go: the main chain, then each branch of each branching node. */
export function slots(nodes: FlatNode[], branching: Set<string>): Slot[] {
  const found: Slot[] = [{ upstream: null, branchIndex: null, label: "main chain" }];
  for (const node of nodes) {
    if (!branching.has(node.type)) continue;
    for (const index of branchIndices(node, nodes)) {
      found.push({ upstream: node.key, branchIndex: index, label: `${node.key} → ${branchLabel(node, index)}` });
    }
  }
  return found;
}

export function layoutGraph(nodes: FlatNode[]): Layout {
  const graph = new Graph({ multigraph: true });
  graph.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 44, edgesep: 12, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  graph.setNode(START, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const node of nodes) graph.setNode(node.key, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const byChain = chains(nodes);
  const edge = (from: string, to: string, label: string) =>
    graph.setEdge(from, to, { label, width: label.length * 7, height: label ? 14 : 0, labelpos: "c" }, `${from}>${to}`);
  const main = byChain.get(chainKey(null, null)) ?? [];
  if (main[0]) edge(START, main[0].key, "");
  for (const chain of byChain.values()) {
    chain.forEach((node, i) => {
      if (i + 1 < chain.length) edge(node.key, chain[i + 1].key, "");
    });
    const head = chain[0];
    if (head.upstream !== null) {
      const parent = nodes.find((n) => n.key === head.upstream);
      if (parent) edge(parent.key, head.key, branchLabel(parent, head.branchIndex ?? 0));
    }
  }
  layout(graph);
  const placed: Placed[] = graph.nodes().map((key) => {
    const at = graph.node(key);
    return { key, x: at.x, y: at.y, node: nodes.find((n) => n.key === key) ?? null };
  });
  const edges: PlacedEdge[] = graph.edges().map((e) => {
    const label = graph.edge(e) as { label: string; points: { x: number; y: number }[] };
    return { from: e.v, to: e.w, label: label.label, points: label.points };
  });
  const size = graph.graph() as { width?: number; height?: number };
  return { nodes: placed, edges, width: size.width ?? NODE_WIDTH, height: size.height ?? NODE_HEIGHT };
}
