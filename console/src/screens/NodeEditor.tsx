// One node's form: key, title, type, where it hangs, and its config as YAML or JSON. Saving
// sends createNode or updateNode; the API checks the whole workflow and answers every
// problem, which is shown next to its field (nothing is saved then).
import { useState } from "preact/hooks";
import { type ApiError, type Problem, request } from "../api/client";
import { asApiError } from "../api/useQuery";
import {
  CreateNodeDocument,
  DeleteNodeDocument,
  type NodeTypesQuery,
  UpdateNodeDocument,
  type UpdateNodeInput,
} from "../graphql/generated";
import { type FlatNode, slots } from "../lib/graph";
import { STARTERS } from "../lib/starters";
import { ConfigEditor, useConfigText } from "../ui/ConfigEditor";
import { ConfirmDialog } from "../ui/Dialog";
import { FieldProblems, ProblemList } from "../ui/Problems";
import type { WorkflowData } from "./WorkflowPage";

type NodeType = NodeTypesQuery["nodeTypes"][number];

function slotValue(upstream: string | null, branchIndex: number | null): string {
  return upstream === null ? "" : `${upstream}#${branchIndex ?? 0}`;
}

function parseSlot(value: string): { upstream: string | null; branchIndex: number | null } {
  if (!value) return { upstream: null, branchIndex: null };
  const at = value.lastIndexOf("#");
  return { upstream: value.slice(0, at), branchIndex: Number(value.slice(at + 1)) };
}

export function NodeEditor(props: {
  workflow: WorkflowData;
  node: FlatNode | null;
  types: NodeType[];
  onSaved(key: string): void;
  onCancel(): void;
}) {
  const { workflow, node, types } = props;
  const usable = types.filter((t) => !(workflow.sync ? t.asyncOnly : t.syncOnly));
  const [key, setKey] = useState(node?.key ?? "");
  const [title, setTitle] = useState(node?.title ?? "");
  const [type, setType] = useState(node?.type ?? usable[0]?.name ?? "response");
  const [slot, setSlot] = useState(slotValue(node?.upstream ?? null, node?.branchIndex ?? null));
  const [position, setPosition] = useState("");
  const config = useConfigText(node ? node.config : STARTERS[type] ?? {});
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState("");
  const [deleting, setDeleting] = useState(false);
  const branching = new Set(types.filter((t) => t.branching).map((t) => t.name));
  const places = slots(
    workflow.nodes.filter((n) => n.key !== node?.key),
    branching,
  );

  // The problems about this node (its fields by name) and the rest.
  const keyNow = node?.key ?? key;
  const mine = (field: string): Problem[] => error?.about(`nodes[${keyNow}].${field}`) ?? [];
  const fieldNames = ["key", "type", "title", "config", "upstream", "branchIndex"];
  const others = (error?.problems ?? []).filter(
    (p) => !fieldNames.some((f) => mine(f).includes(p)),
  );

  async function save(event: Event) {
    event.preventDefault();
    setError(null);
    setSaved("");
    const read = config.value();
    if (!read.ok) return;
    const place = parseSlot(slot);
    const at = position.trim() === "" ? null : Number(position);
    try {
      if (!node) {
        const { createNode } = await request(CreateNodeDocument, {
          workflowId: workflow.id,
          input: { key: key.trim(), type, title: title || null, config: read.value, ...place },
          position: at,
        });
        props.onSaved(createNode.key);
        return;
      }
      const input: UpdateNodeInput = { config: read.value };
      if (key.trim() !== node.key) input.key = key.trim();
      if (title !== node.title) input.title = title;
      if (type !== node.type) input.type = type;
      const moved = place.upstream !== node.upstream || (place.upstream !== null && place.branchIndex !== node.branchIndex);
      if (moved) Object.assign(input, place);
      const { updateNode } = await request(UpdateNodeDocument, { id: node.id, input, position: at });
      setSaved("Saved.");
      props.onSaved(updateNode.key);
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  async function remove() {
    setDeleting(false);
    if (!node) return;
    try {
      await request(DeleteNodeDocument, { id: node.id });
      props.onCancel();
      props.onSaved("");
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  const described = (name: string) => `node-${name}-problems`;
  return (
    <form onSubmit={save} class="stack" aria-labelledby="editor-heading">
      <h2 id="editor-heading">{node ? `Node ${node.key}` : "New node"}</h2>
      <label for="node-type">Type</label>
      <select
        id="node-type"
        value={type}
        onChange={(e) => {
          const next = e.currentTarget.value;
          setType(next);
          if (!node) config.reset(STARTERS[next] ?? {});
        }}
        aria-describedby={`node-type-help ${described("type")}`}
      >
        {usable.map((t) => (
          <option key={t.name} value={t.name}>
            {t.title} ({t.name})
          </option>
        ))}
      </select>
      <p id="node-type-help" class="help">
        {types.find((t) => t.name === type)?.description}
      </p>
      <FieldProblems problems={mine("type")} id={described("type")} />
      <label for="node-key">Key</label>
      <input
        id="node-key"
        class="mono"
        required
        value={key}
        onInput={(e) => setKey(e.currentTarget.value)}
        aria-describedby={described("key")}
        aria-invalid={mine("key").length ? "true" : undefined}
      />
      <FieldProblems problems={mine("key")} id={described("key")} />
      <label for="node-title">Title</label>
      <input id="node-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      <div class="grid2">
        <div>
          <label for="node-place">Place</label>
          <select id="node-place" value={slot} onChange={(e) => setSlot(e.currentTarget.value)} aria-describedby={described("upstream")}>
            {places.map((s) => (
              <option key={slotValue(s.upstream, s.branchIndex)} value={slotValue(s.upstream, s.branchIndex)}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="node-position">Position in that chain</label>
          <input
            id="node-position"
            inputMode="numeric"
            value={position}
            placeholder={node ? "unchanged" : "last"}
            onInput={(e) => setPosition(e.currentTarget.value)}
          />
        </div>
      </div>
      <FieldProblems problems={[...mine("upstream"), ...mine("branchIndex")]} id={described("upstream")} />
      <ConfigEditor id="node-config" label="Config" config={config} describedBy={described("config")} invalid={mine("config").length > 0} />
      <FieldProblems problems={mine("config")} id={described("config")} />
      {error ? (
        <div class="error-note" role="alert">
          <p>
            <strong>Not saved.</strong> {error.problems.length ? "The API found problems (shown next to each field)." : error.message}
          </p>
          {others.length ? <ProblemList problems={others} /> : null}
        </div>
      ) : null}
      <div class="actions">
        <button type="submit" class="primary">
          {node ? "Save node" : "Create node"}
        </button>
        <button type="button" onClick={props.onCancel}>
          {node ? "Close" : "Cancel"}
        </button>
        {node ? (
          <button type="button" class="danger" onClick={() => setDeleting(true)}>
            Delete node
          </button>
        ) : null}
        <span role="status">{saved}</span>
      </div>
      <ConfirmDialog title="Delete node" open={deleting} confirm="Delete node" onConfirm={remove} onClose={() => setDeleting(false)}>
        <p>
          Delete <code>{node?.key}</code>
          {node && workflow.nodes.some((n) => n.upstream === node.key) ? " and every node of its branches" : ""}?
        </p>
      </ConfirmDialog>
    </form>
  );
}

