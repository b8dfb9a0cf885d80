// A new workflow, blank or from one of the bundled examples (config/workflows/).
import { useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { asApiError } from "../api/useQuery";
import { CreateWorkflowDocument, type WorkflowInput } from "../graphql/generated";
import { EXAMPLES, fromExample } from "../lib/documents";
import { Dialog } from "../ui/Dialog";
import { ErrorNote, FieldProblems } from "../ui/Problems";

export function NewWorkflowDialog(props: { open: boolean; onClose(): void; onCreated(id: string): void }) {
  return (
    <Dialog title="New workflow" open={props.open} onClose={props.onClose}>
      <NewWorkflowForm {...props} />
    </Dialog>
  );
}

function NewWorkflowForm({ onClose, onCreated }: { onClose(): void; onCreated(id: string): void }) {
  const [key, setKey] = useState("");
  const [title, setTitle] = useState("");
  const [sync, setSync] = useState(true);
  const [from, setFrom] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const example = EXAMPLES.find((e) => e.name === from);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    const input: WorkflowInput = example
      ? fromExample(example, key.trim(), title.trim())
      : { key: key.trim(), title: title.trim() || null, sync, enabled: false };
    try {
      const { createWorkflow } = await request(CreateWorkflowDocument, { input });
      onCreated(createWorkflow.id);
      onClose();
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  const keyProblems = error?.about("key") ?? [];
  return (
    <form onSubmit={submit} class="stack">
      <label for="new-from">Start from</label>
      <select id="new-from" value={from} onChange={(e) => setFrom(e.currentTarget.value)}>
        <option value="">a blank workflow</option>
        {EXAMPLES.map((e) => (
          <option value={e.name} key={e.name}>
            the example “{e.title}”
          </option>
        ))}
      </select>
      {example ? <p class="help">{example.description} A new random URL key is made for it.</p> : null}
      <label for="new-key">Key</label>
      <input
        id="new-key"
        required
        value={key}
        pattern="[A-Za-z0-9][A-Za-z0-9_.\-]*"
        onInput={(e) => setKey(e.currentTarget.value)}
        aria-describedby="new-key-help new-key-problems"
        aria-invalid={keyProblems.length ? "true" : undefined}
      />
      <p id="new-key-help" class="help">
        Its identity: letters, digits, <code>-</code>, <code>_</code>, <code>.</code>; it cannot change later.
      </p>
      <FieldProblems problems={keyProblems} id="new-key-problems" />
      <label for="new-title">Title</label>
      <input id="new-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      {example ? null : (
        <label class="check">
          <input type="checkbox" checked={sync} onChange={(e) => setSync(e.currentTarget.checked)} />
          Synchronous: the caller waits for a response node's answer
        </label>
      )}
      {error && !keyProblems.length ? <ErrorNote error={error} title="Not created" /> : null}
      <div class="actions">
        <button type="submit" class="primary">
          Create
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
