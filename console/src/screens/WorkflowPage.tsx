// One workflow: its header (enable, delete) and a tab per part. The workflow is loaded here,
// once, and every tab reloads it through `reload` after a change.
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { asApiError, useLoad } from "../api/useQuery";
import { navigate } from "../app/router";
import { DeleteWorkflowDocument, SetEnabledDocument, WorkflowDocument } from "../graphql/generated";
import type { WorkflowFieldsFragment } from "../graphql/generated";
import { ConfirmDialog } from "../ui/Dialog";
import { Link } from "../ui/Link";
import { ErrorNote } from "../ui/Problems";
import { DocumentEditor } from "./DocumentEditor";
import { ExecutionList } from "./ExecutionList";
import { NodesTab } from "./NodesTab";
import { ParseRules } from "./ParseRules";
import { TriggerPanel } from "./TriggerPanel";

export type WorkflowData = WorkflowFieldsFragment;

export interface TabProps {
  workflow: WorkflowData;
  reload(): Promise<void>;
}

const TABS = [
  ["trigger", "Trigger"],
  ["rules", "Parse rules"],
  ["nodes", "Nodes"],
  ["document", "Document"],
  ["executions", "Executions"],
] as const;

export function WorkflowPage({ id, tab }: { id: string; tab: string }) {
  const loaded = useLoad(async () => (await request(WorkflowDocument, { id })).workflow, [id]);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<ReturnType<typeof asApiError> | null>(null);
  const workflow = loaded.data;

  if (!workflow) {
    return (
      <section>
        <h1>{loaded.loading ? "Loading workflow…" : "No such workflow"}</h1>
        <ErrorNote error={loaded.error} />
        {!loaded.loading ? <Link href="/">Back to the workflows</Link> : null}
      </section>
    );
  }

  async function toggle() {
    setError(null);
    try {
      await request(SetEnabledDocument, { id, enabled: !workflow!.enabled });
      await loaded.reload();
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  async function remove() {
    setDeleting(false);
    try {
      await request(DeleteWorkflowDocument, { id });
      navigate("/");
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  const props: TabProps = { workflow, reload: loaded.reload };
  return (
    <section>
      <nav aria-label="Breadcrumb" class="crumbs">
        <Link href="/">Workflows</Link> / <span>{workflow.key}</span>
      </nav>
      <div class="heading-row">
        <h1>{workflow.title || workflow.key}</h1>
        <div class="toolbar">
          <span class="pill">{workflow.sync ? "sync" : "async"}</span>
          <span class="pill">version {workflow.version}</span>
          <button type="button" role="switch" class="switch" aria-checked={workflow.enabled} aria-label="Workflow enabled" onClick={toggle}>
            {workflow.enabled ? "Enabled" : "Disabled"}
          </button>
          <button type="button" class="danger" onClick={() => setDeleting(true)}>
            Delete workflow
          </button>
        </div>
      </div>
      <ErrorNote error={error} />
      <nav aria-label="Workflow parts" class="tabs">
        <ul>
          {TABS.map(([name, label]) => (
            <li key={name}>
              <Link href={`/workflows/${id}/${name}`} current={tab === name}>
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div class="tab-body">
        {tab === "trigger" ? <TriggerPanel {...props} /> : null}
        {tab === "rules" ? <ParseRules {...props} /> : null}
        {tab === "nodes" ? <NodesTab {...props} /> : null}
        {tab === "document" ? <DocumentEditor {...props} /> : null}
        {tab === "executions" ? <ExecutionList workflowId={workflow.id} /> : null}
      </div>
      <ConfirmDialog title="Delete workflow" open={deleting} confirm="Delete" onConfirm={remove} onClose={() => setDeleting(false)}>
        <p>
          Delete <strong>{workflow.key}</strong> and all its executions? Its URL stops working at
          once. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
