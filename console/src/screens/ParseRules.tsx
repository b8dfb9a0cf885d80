// Parse rules: the table of header / query / body rules, a form to add one, and the Parse
// example box.
import { useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { asApiError } from "../api/useQuery";
import {
  DeleteParseRuleDocument,
  type ParseSource,
  type RuleFieldsFragment,
  UpdateParseRuleDocument,
} from "../graphql/generated";
import { ConfirmDialog, Dialog } from "../ui/Dialog";
import { ErrorNote, FieldProblems } from "../ui/Problems";
import { ParseExample } from "./ParseExample";
import type { TabProps } from "./WorkflowPage";

export const RULE_TYPES = ["", "string", "number", "integer", "boolean", "object", "array"];
export const SOURCES: [ParseSource, string][] = [
  ["BODY", "Body"],
  ["QUERY", "Query"],
  ["HEADERS", "Headers"],
];
export const REQUEST_FIELD: Record<ParseSource, "body" | "query" | "headers"> = {
  BODY: "body",
  QUERY: "query",
  HEADERS: "headers",
};

export function asRuleInput(rule: RuleFieldsFragment) {
  return { key: rule.key, alias: rule.alias, var: rule.var, required: rule.required, type: rule.type };
}

export function ParseRules(props: TabProps) {
  const { workflow, reload } = props;
  const [editing, setEditing] = useState<RuleFieldsFragment | null>(null);
  const [deleting, setDeleting] = useState<RuleFieldsFragment | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const rules = workflow.trigger.parseRules;

  async function remove(rule: RuleFieldsFragment) {
    setDeleting(null);
    setError(null);
    try {
      await request(DeleteParseRuleDocument, { id: rule.id });
      await reload();
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  return (
    <div class="stack">
      <section aria-labelledby="rules-heading">
        <h2 id="rules-heading">Parse rules</h2>
        <p class="help">
          Each rule reads one value of the request into <code>$context</code>: a required value that is
          missing, or one of the wrong type, is answered 400 before any node runs.
        </p>
        <ErrorNote error={error} />
        {rules.length ? (
          <table class="list">
            <caption class="visually-hidden">Parse rules</caption>
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Path</th>
                <th scope="col">Alias</th>
                <th scope="col">Variable</th>
                <th scope="col">Required</th>
                <th scope="col">Type</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rules.map((rule) => (
                <tr key={rule.id}>
                  <td>{rule.source.toLowerCase()}</td>
                  <td class="mono">{rule.key}</td>
                  <td>{rule.alias ?? ""}</td>
                  <td class="mono">{rule.var ?? ""}</td>
                  <td>{rule.required ? "yes" : "no"}</td>
                  <td>{rule.type ?? "any"}</td>
                  <td class="row-actions">
                    <button type="button" class="quiet" onClick={() => setEditing(rule)} aria-label={`Edit rule ${rule.key}`}>
                      Edit
                    </button>
                    <button type="button" class="quiet danger" onClick={() => setDeleting(rule)} aria-label={`Delete rule ${rule.key}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>No rules yet: paste an example below.</p>
        )}
      </section>
      <ParseExample {...props} />
      <Dialog title="Edit parse rule" open={editing !== null} onClose={() => setEditing(null)}>
        {editing ? (
          <RuleForm
            rule={editing}
            onDone={async () => {
              setEditing(null);
              await reload();
            }}
            onCancel={() => setEditing(null)}
          />
        ) : null}
      </Dialog>
      <ConfirmDialog
        title="Delete parse rule"
        open={deleting !== null}
        confirm="Delete rule"
        onConfirm={() => deleting && remove(deleting)}
        onClose={() => setDeleting(null)}
      >
        <p>
          Delete the {deleting?.source.toLowerCase()} rule <code>{deleting?.key}</code>?
        </p>
      </ConfirmDialog>
    </div>
  );
}

function RuleForm({ rule, onDone, onCancel }: { rule: RuleFieldsFragment; onDone(): void; onCancel(): void }) {
  const [form, setForm] = useState({ ...asRuleInput(rule), source: rule.source });
  const [error, setError] = useState<ApiError | null>(null);
  async function save(event: Event) {
    event.preventDefault();
    try {
      await request(UpdateParseRuleDocument, {
        id: rule.id,
        input: { ...form, alias: form.alias || null, var: form.var || null, type: form.type || null },
      });
      onDone();
    } catch (caught) {
      setError(asApiError(caught));
    }
  }
  const problems = (name: string) => (error?.problems ?? []).filter((p) => p.field.endsWith(`.${name}`) || p.field === name);
  return (
    <form onSubmit={save} class="stack">
      <label>
        Source
        <select value={form.source} onChange={(e) => setForm({ ...form, source: e.currentTarget.value as ParseSource })}>
          {SOURCES.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Path
        <input class="mono" required value={form.key} onInput={(e) => setForm({ ...form, key: e.currentTarget.value })} aria-describedby="rule-key-problems" />
      </label>
      <FieldProblems problems={problems("key")} id="rule-key-problems" />
      <label>
        Alias
        <input value={form.alias ?? ""} onInput={(e) => setForm({ ...form, alias: e.currentTarget.value })} />
      </label>
      <label>
        Variable
        <input class="mono" value={form.var ?? ""} onInput={(e) => setForm({ ...form, var: e.currentTarget.value })} />
      </label>
      <label>
        Type
        <select value={form.type ?? ""} onChange={(e) => setForm({ ...form, type: e.currentTarget.value })}>
          {RULE_TYPES.map((t) => (
            <option key={t} value={t}>
              {t || "any"}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" checked={form.required ?? false} onChange={(e) => setForm({ ...form, required: e.currentTarget.checked })} />
        Required
      </label>
      <ErrorNote error={error} title="Not saved" />
      <div class="actions">
        <button type="submit" class="primary">
          Save rule
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

