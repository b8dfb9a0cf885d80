// The whole workflow as the YAML document `gateway apply` takes (secrets left out: applying
// without them keeps the stored ones). Edit, preview the dry run and the diff, then apply.
import { dump, load } from "js-yaml";
import { useEffect, useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { asApiError, useLoad } from "../api/useQuery";
import { ApplyWorkflowsDocument, type ApplyWorkflowsMutation, WorkflowDocumentDocument } from "../graphql/generated";
import { diffLines, hunks } from "../lib/diff";
import { ErrorNote } from "../ui/Problems";
import type { TabProps } from "./WorkflowPage";

type Change = ApplyWorkflowsMutation["applyWorkflows"][number];

export function DocumentEditor({ workflow, reload }: TabProps) {
  const loaded = useLoad(
    async () => (await request(WorkflowDocumentDocument, { id: workflow.id })).workflow,
    [workflow.id, workflow.version, workflow.enabled],
  );
  const original = loaded.data ? dump(loaded.data.document, { lineWidth: 100, noRefs: true }) : "";
  const [text, setText] = useState("");
  const [plan, setPlan] = useState<{ text: string; changes: Change[] } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState("");
  useEffect(() => {
    setText(original);
    setPlan(null);
  }, [original]);

  function parsed(): Record<string, unknown> | null {
    try {
      const value = load(text);
      if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("the document must be a mapping");
      if ((value as { key?: unknown }).key !== workflow.key) {
        throw new Error(`the key must stay “${workflow.key}” (another key would create another workflow)`);
      }
      return value as Record<string, unknown>;
    } catch (caught) {
      setError(asApiError(new Error(`Not valid: ${(caught as Error).message}`)));
      return null;
    }
  }

  async function run(dryRun: boolean) {
    setError(null);
    setSaved("");
    const document = parsed();
    if (!document) return;
    try {
      const { applyWorkflows } = await request(ApplyWorkflowsDocument, { documents: [document], dryRun });
      if (dryRun) setPlan({ text, changes: applyWorkflows });
      else {
        setPlan(null);
        const change = applyWorkflows[0];
        setSaved(change?.action === "unchanged" ? "Nothing changed." : `Applied: version ${change?.version}.`);
        await reload();
      }
    } catch (caught) {
      setPlan(null);
      setError(asApiError(caught));
    }
  }

  const fresh = plan !== null && plan.text === text;
  const lines = fresh ? hunks(diffLines(original, text)) : [];
  return (
    <div class="stack">
      <h2>Workflow document</h2>
      <p class="help">
        The document <code>gateway apply</code> takes and <code>gateway export</code> writes. Secrets
        (passwords, signing secrets) are left out; applying without them keeps the stored ones.
      </p>
      <ErrorNote error={loaded.error} />
      <label for="document-text">Document (YAML)</label>
      <textarea
        id="document-text"
        class="mono"
        rows={Math.min(40, Math.max(12, text.split("\n").length + 1))}
        spellcheck={false}
        value={text}
        onInput={(e) => {
          setText(e.currentTarget.value);
          setSaved("");
        }}
      />
      <ErrorNote error={error} title="Not applied" />
      <div class="actions">
        <button type="button" onClick={() => run(true)} disabled={!loaded.data}>
          Preview changes
        </button>
        <button type="button" class="primary" onClick={() => run(false)} disabled={!fresh}>
          Apply
        </button>
        <button type="button" onClick={() => setText(original)} disabled={text === original}>
          Revert
        </button>
        <span role="status">{saved}</span>
      </div>
      {fresh ? (
        <section aria-labelledby="plan-heading" class="card">
          <h3 id="plan-heading">Dry run</h3>
          {plan.changes.map((c) => (
            <p key={c.key}>
              <strong>{c.action}</strong> {c.key}
              {c.action === "update" ? ` (version ${c.previousVersion} → ${c.version})` : ""}
              {c.changed.length ? `: ${c.changed.join(", ")}` : ""}
            </p>
          ))}
          {lines.length ? (
            <pre class="diff" aria-label="Changes to the document">
              {lines.map((line, i) =>
                line === null ? (
                  <span key={i} class="gap">
                    {"⋯\n"}
                  </span>
                ) : (
                  <span key={i} class={line.kind === "+" ? "added" : line.kind === "-" ? "removed" : ""}>
                    {`${line.kind} ${line.text}\n`}
                  </span>
                ),
              )}
            </pre>
          ) : (
            <p>The text is the same as the stored document.</p>
          )}
        </section>
      ) : null}
    </div>
  );
}
