// Nodes: the graph, a list of the same nodes (for reading in order), and the editor of the
// selected node or of a new one.
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { useLoad } from "../api/useQuery";
import { useRoute } from "../app/router";
import { NodeTypesDocument } from "../graphql/generated";
import { NodeEditor } from "./NodeEditor";
import { NodeGraph } from "./NodeGraph";
import { type TestRun, TestRunPanel } from "./TestRunPanel";
import type { TabProps } from "./WorkflowPage";

export function NodesTab({ workflow, reload }: TabProps) {
  const types = useLoad(async () => (await request(NodeTypesDocument)).nodeTypes, []);
  const [selected, setSelected] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [run, setRun] = useState<TestRun | null>(null);
  const callId = useRoute().query.get("call");
  const visited = new Map((run?.nodes ?? []).map((n) => [n.key, n.status]));
  const node = workflow.nodes.find((n) => n.key === selected) ?? null;

  const select = (key: string) => {
    setAdding(false);
    setSelected(key);
  };
  return (
    <div class="nodes-tab">
      <section aria-labelledby="graph-heading" class="graph-pane">
        <div class="heading-row">
          <h2 id="graph-heading">Graph</h2>
          <button
            type="button"
            class="primary"
            onClick={() => {
              setSelected(null);
              setAdding(true);
            }}
          >
            Add node
          </button>
        </div>
        {workflow.nodes.length ? (
          <NodeGraph nodes={workflow.nodes} selected={selected} onSelect={select} visited={visited} />
        ) : (
          <p>No nodes yet: a call is answered 200 with no body (sync) or the async answer.</p>
        )}
        <TestRunPanel workflow={workflow} callId={callId} run={run} selected={selected} onRun={setRun} onSelect={select} />
      </section>
      <section aria-labelledby="editor-heading" class="editor-pane">
        {types.data && (adding || node) ? (
          <NodeEditor
            key={adding ? "new" : `${node!.id}:${workflow.version}`}
            workflow={workflow}
            node={adding ? null : node}
            types={types.data}
            onSaved={async (key) => {
              await reload();
              setAdding(false);
              setSelected(key);
            }}
            onCancel={() => {
              setAdding(false);
              setSelected(null);
            }}
          />
        ) : (
          <>
            <h2 id="editor-heading">Node</h2>
            <p>Select a node in the graph to edit it, or add one.</p>
          </>
        )}
      </section>
    </div>
  );
}
