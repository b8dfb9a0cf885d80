// The workflow drawn as a graph (SVG by hand, laid out by dagre). Each node is a button:
// click or Enter/Space selects it.
import { useMemo } from "preact/hooks";
import { type FlatNode, layoutGraph, NODE_HEIGHT, NODE_WIDTH, START } from "../lib/graph";

function path(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
}

function clip(text: string, max = 22): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

export function NodeGraph(props: {
  nodes: FlatNode[];
  selected: string | null;
  onSelect(key: string): void;
  /** A test run's nodes and their status: highlighted, the status on hover. */
  visited?: Map<string, string>;
}) {
  const drawn = useMemo(() => layoutGraph(props.nodes), [props.nodes]);
  return (
    <figure class="graph">
      <svg
        viewBox={`0 0 ${drawn.width} ${drawn.height}`}
        width="100%"
        style={{ maxWidth: `${drawn.width}px` }}
        role="group"
        aria-label="Workflow graph"
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
          </marker>
        </defs>
        {drawn.edges.map((e) => {
          const mid = e.points[Math.floor(e.points.length / 2)];
          return (
            <g key={`${e.from}>${e.to}`} class="edge" aria-hidden="true">
              <path d={path(e.points)} marker-end="url(#arrow)" />
              {e.label ? (
                <text x={mid.x} y={mid.y} class="edge-label" text-anchor="middle" dominant-baseline="middle">
                  {e.label}
                </text>
              ) : null}
            </g>
          );
        })}
        {drawn.nodes.map((n) => {
          const x = n.x - NODE_WIDTH / 2;
          const y = n.y - NODE_HEIGHT / 2;
          if (!n.node) {
            return (
              <g key={START} class="node start" aria-hidden="true">
                <rect x={x} y={y} width={NODE_WIDTH} height={NODE_HEIGHT} rx={24} />
                <text x={n.x} y={n.y + 5} text-anchor="middle">
                  Webhook call
                </text>
              </g>
            );
          }
          const node = n.node;
          const selected = props.selected === node.key;
          const ran = props.visited?.get(node.key);
          const choose = () => props.onSelect(node.key);
          const titled = Boolean(node.title && node.title !== node.key);
          const first = clip(titled ? node.title : node.key);
          const second = titled ? `${node.type} · ${clip(node.key, 14)}` : node.type;
          return (
            <g
              key={node.key}
              class={`node type-${node.type}${selected ? " selected" : ""}${ran ? " visited" : ""}`}
              role="button"
              tabindex={0}
              aria-pressed={selected}
              aria-label={`${first} ${second}${ran ? ` (test run: ${ran})` : ""}`}
              onClick={choose}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  choose();
                }
              }}
            >
              {ran ? <title>test run: {ran}</title> : null}
              <rect x={x} y={y} width={NODE_WIDTH} height={NODE_HEIGHT} rx={6} />
              <text>
                <tspan x={x + 10} y={y + 19} class="node-key">
                  {first}
                </tspan>{" "}
                <tspan x={x + 10} y={y + 37} class="node-type">
                  {second}
                </tspan>
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
