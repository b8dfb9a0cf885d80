// Parse example: paste a body, a query string or a header block; every path is listed with
// its type and value; the ticked ones become rules in one updateTrigger (one new version).
import { useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { asApiError } from "../api/useQuery";
import { navigate, useRoute } from "../app/router";
import { type ParseExampleMutation, ParseCapturedCallDocument, ParseExampleDocument, type ParseSource, UpdateTriggerDocument } from "../graphql/generated";
import { ErrorNote, FieldProblems } from "../ui/Problems";
import { asRuleInput, REQUEST_FIELD, RULE_TYPES, SOURCES } from "./ParseRules";
import type { TabProps } from "./WorkflowPage";

type Path = ParseExampleMutation["parseExample"][number];

interface Choice {
  use: boolean;
  alias: string;
  type: string;
  required: boolean;
}

const PLACEHOLDER: Record<ParseSource, string> = {
  BODY: '{"id": "evt_1", "data": {"object": {"amount": 1200}}}',
  QUERY: "?order=42&items[0][sku]=A1",
  HEADERS: "X-GitHub-Event: push\nX-GitHub-Delivery: 72d3162e",
};

function preview(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? text.slice(0, 57) + "…" : text;
}

export function ParseExample({ workflow, reload }: TabProps) {
  const callId = useRoute().query.get("call");
  const [source, setSource] = useState<ParseSource>("BODY");
  const [example, setExample] = useState("");
  const [paths, setPaths] = useState<Path[] | null>(null);
  const [choices, setChoices] = useState<Record<string, Choice>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState("");
  const existing = workflow.trigger.parseRules.filter((r) => r.source === source);
  const taken = new Set(existing.map((r) => r.key));
  const chosen = Object.entries(choices).filter(([, c]) => c.use);

  async function parse(event: Event) {
    event.preventDefault();
    setError(null);
    setSaved("");
    try {
      const { parseExample } = callId
        ? await request(ParseCapturedCallDocument, { source, capturedCallId: callId })
        : await request(ParseExampleDocument, { source, example });
      setPaths(parseExample);
      setChoices(
        Object.fromEntries(
          parseExample.map((p) => [p.path, { use: false, alias: "", type: p.ruleType ?? "", required: false }]),
        ),
      );
    } catch (caught) {
      setPaths(null);
      setError(asApiError(caught));
    }
  }

  async function save() {
    setError(null);
    const added = chosen.map(([path, c]) => ({
      key: path,
      alias: c.alias.trim() || null,
      type: c.type || null,
      required: c.required,
    }));
    try {
      const { updateTrigger } = await request(UpdateTriggerDocument, {
        workflowId: workflow.id,
        input: { request: { [REQUEST_FIELD[source]]: [...existing.map(asRuleInput), ...added] } },
      });
      await reload();
      setPaths(null);
      setChoices({});
      setSaved(`${added.length} rule${added.length === 1 ? "" : "s"} added: version ${updateTrigger.workflow.version}.`);
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  const choose = (path: string, change: Partial<Choice>) =>
    setChoices({ ...choices, [path]: { ...choices[path], ...change } });
  const exampleProblems = error?.about("example") ?? [];
  return (
    <section aria-labelledby="example-heading" class="card">
      <h2 id="example-heading">Parse example</h2>
      <form onSubmit={parse} class="stack">
        <fieldset class="inline">
          <legend>The example is</legend>
          {SOURCES.map(([value, label]) => (
            <label class="check" key={value}>
              <input
                type="radio"
                name="example-source"
                value={value}
                checked={source === value}
                onChange={() => {
                  setSource(value);
                  setPaths(null);
                }}
              />
              {label === "Body" ? "a JSON body" : label === "Query" ? "a query string or URL" : "a header block"}
            </label>
          ))}
        </fieldset>
        {callId ? (
          <p class="notice">
            The example is captured call #{callId} (its {source === "BODY" ? "body" : source === "QUERY" ? "query string" : "headers"}).{" "}
            <button type="button" onClick={() => navigate(`/workflows/${workflow.id}/rules`, true)}>
              Paste an example instead
            </button>
          </p>
        ) : null}
        <label for="example-text" hidden={Boolean(callId)}>Example</label>
        <textarea
          hidden={Boolean(callId)}
          id="example-text"
          class="mono"
          rows={6}
          value={example}
          placeholder={PLACEHOLDER[source]}
          onInput={(e) => setExample(e.currentTarget.value)}
          aria-describedby="example-problems"
          aria-invalid={exampleProblems.length ? "true" : undefined}
        />
        <FieldProblems problems={exampleProblems} id="example-problems" />
        <div class="actions">
          <button type="submit">Parse example</button>
          <span role="status">{saved}</span>
        </div>
      </form>
      {error && !exampleProblems.length ? <ErrorNote error={error} title="Not saved" /> : null}
      {paths ? (
        <>
          <table class="list paths">
            <caption>
              {paths.length} path{paths.length === 1 ? "" : "s"} found: tick the ones to read
            </caption>
            <thead>
              <tr>
                <th scope="col">Use</th>
                <th scope="col">Path</th>
                <th scope="col">Type</th>
                <th scope="col">Example</th>
                <th scope="col">Alias</th>
                <th scope="col">Rule type</th>
                <th scope="col">Required</th>
              </tr>
            </thead>
            <tbody>
              {paths.map((p) => {
                const c = choices[p.path];
                const already = taken.has(p.path);
                return (
                  <tr key={p.path} class={c?.use ? "chosen" : undefined}>
                    <td>
                      <input
                        type="checkbox"
                        checked={c?.use ?? false}
                        disabled={already}
                        aria-label={`Use ${p.path}`}
                        onChange={(e) => choose(p.path, { use: e.currentTarget.checked })}
                      />
                    </td>
                    <td class="mono">
                      {p.path}
                      {already ? <span class="sub"> (already a rule)</span> : null}
                    </td>
                    <td>{p.type}</td>
                    <td class="mono">{preview(p.example)}</td>
                    <td>
                      <input
                        value={c?.alias ?? ""}
                        aria-label={`Alias for ${p.path}`}
                        disabled={!c?.use}
                        onInput={(e) => choose(p.path, { alias: e.currentTarget.value })}
                      />
                    </td>
                    <td>
                      <select
                        value={c?.type ?? ""}
                        aria-label={`Rule type for ${p.path}`}
                        disabled={!c?.use}
                        onChange={(e) => choose(p.path, { type: e.currentTarget.value })}
                      >
                        {RULE_TYPES.map((t) => (
                          <option key={t} value={t}>
                            {t || "any"}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        checked={c?.required ?? false}
                        disabled={!c?.use}
                        aria-label={`Required: ${p.path}`}
                        onChange={(e) => choose(p.path, { required: e.currentTarget.checked })}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div class="actions">
            <button type="button" class="primary" disabled={!chosen.length} onClick={save}>
              {chosen.length ? `Add ${chosen.length} rule${chosen.length === 1 ? "" : "s"}` : "Tick paths to add them"}
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}
