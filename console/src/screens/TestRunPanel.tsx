// Test run: the stored workflow run against a request (a JSON body, headers, a query
// string) or a captured call, with side effects off unless asked. The trace is listed
// here, in the order the nodes ran, and drawn on the graph by the Nodes tab.
import { useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { asApiError } from "../api/useQuery";
import { type TestRunWorkflowMutation, TestRunWorkflowDocument } from "../graphql/generated";
import { json } from "../lib/format";
import { CopyButton } from "../ui/CopyButton";
import { ErrorNote } from "../ui/Problems";
import type { WorkflowData } from "./WorkflowPage";

export type TestRun = TestRunWorkflowMutation["testRunWorkflow"];

class FormProblem extends Error {}

function headerObject(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [number, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at < 1) throw new FormProblem(`Header line ${number + 1} is not 'Name: value'`);
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

export function TestRunPanel(props: {
  workflow: WorkflowData;
  callId: string | null;
  run: TestRun | null;
  selected: string | null;
  onRun(run: TestRun | null): void;
  onSelect(key: string): void;
}) {
  const { workflow, callId, run } = props;
  const [body, setBody] = useState("{}");
  const [headers, setHeaders] = useState("");
  const [query, setQuery] = useState("");
  const [useCall, setUseCall] = useState(Boolean(callId));
  const [sideEffects, setSideEffects] = useState(false);
  const [skip, setSkip] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [problem, setProblem] = useState("");

  async function start(event: Event) {
    event.preventDefault();
    setError(null);
    setProblem("");
    try {
      const variables = { workflowKey: workflow.key, sideEffects, skipAuthentication: skip };
      let testRunWorkflow: TestRun;
      if (useCall && callId) {
        ({ testRunWorkflow } = await request(TestRunWorkflowDocument, { ...variables, capturedCallId: callId }));
      } else {
        const given = headerObject(headers);
        const typed = Object.keys(given).some((name) => name.toLowerCase() === "content-type");
        const sent = typed ? given : { "content-type": "application/json", ...given };
        const input = { headers: sent, query: query || null, rawBody: body };
        ({ testRunWorkflow } = await request(TestRunWorkflowDocument, { ...variables, request: input }));
      }
      props.onRun(testRunWorkflow);
    } catch (caught) {
      if (caught instanceof FormProblem) setProblem(caught.message);
      else setError(asApiError(caught));
      props.onRun(null);
    }
  }

  return (
    <section aria-labelledby="test-run-heading" class="card">
      <h2 id="test-run-heading">Test run</h2>
      <form onSubmit={start} class="stack">
        {callId ? (
          <label class="check">
            <input type="checkbox" checked={useCall} onChange={(e) => setUseCall(e.currentTarget.checked)} />
            Use captured call #{callId} as the request
          </label>
        ) : null}
        {useCall && callId ? null : (
          <>
            <label for="test-body">Body (JSON)</label>
            <textarea id="test-body" class="mono" rows={5} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
            <label for="test-headers">Headers ('Name: value' lines)</label>
            <textarea id="test-headers" class="mono" rows={2} value={headers} onInput={(e) => setHeaders(e.currentTarget.value)} />
            <label for="test-query">Query string</label>
            <input id="test-query" class="mono" value={query} onInput={(e) => setQuery(e.currentTarget.value)} placeholder="a=1&b=2" />
          </>
        )}
        <label class="check">
          <input type="checkbox" checked={sideEffects} onChange={(e) => setSideEffects(e.currentTarget.checked)} />
          Send request nodes (side effects)
        </label>
        <label class="check">
          <input type="checkbox" checked={skip} onChange={(e) => setSkip(e.currentTarget.checked)} />
          Skip authentication and signature checks
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            Run test
          </button>
        </div>
        {problem ? <div class="error-note" role="alert">{problem}</div> : null}
      </form>
      <ErrorNote error={error} title="Not run" />
      {run ? <Trace run={run} selected={props.selected} onSelect={props.onSelect} /> : null}
    </section>
  );
}

function Trace({ run, selected, onSelect }: { run: TestRun; selected: string | null; onSelect(key: string): void }) {
  return (
    <div class="stack" aria-label="Test run result">
      <p role="status">
        {run.rejected ? "Refused" : `Run ${run.status}`} · answer <strong>{run.answer.status}</strong> · authentication {run.authentication}
        {run.error ? ` · ${run.error}` : ""}
      </p>
      <pre class="mono">{json(run.answer.body)}</pre>
      <div class="actions">
        <CopyButton text={run.testCase} label="Copy as test case" />
        <span>for the workflow's *.test.yaml file (gateway test)</span>
      </div>
      {run.nodes.length ? (
        <ol class="trace" aria-label="Nodes run">
          {run.nodes.map((node, index) => (
            <li key={`${node.key}-${index}`} class={selected === node.key ? "chosen" : undefined}>
              <button type="button" class="quiet" onClick={() => onSelect(node.key)}>
                {node.key}
              </button>{" "}
              {node.type} · {node.status}
              {node.durationMs !== null ? ` · ${node.durationMs} ms` : ""}
              {node.branch !== null ? ` · branch ${node.branch}` : ""}
              {node.note ? ` · ${node.note}` : ""}
              <details open={selected === node.key}>
                <summary>Values of {node.key}</summary>
                {node.rendered !== null ? (
                  <>
                    <h3>Rendered config</h3>
                    <pre class="mono">{json(node.rendered)}</pre>
                  </>
                ) : null}
                {node.request ? (
                  <>
                    <h3>Request (not sent)</h3>
                    <pre class="mono">{json(node.request)}</pre>
                  </>
                ) : null}
                <h3>Result</h3>
                <pre class="mono">{json(node.result)}</pre>
              </details>
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}
