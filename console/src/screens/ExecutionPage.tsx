// One execution: what came in (headers, query, body, raw body), the jobs on a timeline with
// each result, the answer, and replay / cancel. Refreshed on each of its changes while it
// runs (the subscription), or every second when live updates are unavailable.
import { useEffect, useState } from "preact/hooks";
import { request } from "../api/client";
import { watchExecutions } from "../api/live";
import { asApiError, useLoad } from "../api/useQuery";
import { navigate } from "../app/router";
import { CancelExecutionDocument, ExecutionDocument, ReplayExecutionDocument } from "../graphql/generated";
import { between, duration, json, when } from "../lib/format";
import { ConfirmDialog } from "../ui/Dialog";
import { Link } from "../ui/Link";
import { ErrorNote } from "../ui/Problems";
import { StatusBadge } from "../ui/Status";
import { ExecutionTimeline } from "./ExecutionTimeline";

const RUNNING = new Set(["QUEUED", "STARTED"]);

type Try = { at: string; outcome: string; status?: number; error?: string; retryInMs?: number };

// A retrying node's tries, one line each: when, what came back, the wait before the next.
function JobTries({ tries, nodeKey }: { tries: unknown; nodeKey: string }) {
  if (!Array.isArray(tries) || tries.length < 2) return null;
  return (
    <ol class="sub" aria-label={`Tries of ${nodeKey}`}>
      {(tries as Try[]).map((t, i) => (
        <li key={i}>
          {when(t.at)}: {t.status ?? t.outcome}
          {t.error ? ` (${t.error})` : ""}
          {t.retryInMs !== undefined ? `, retried after ${duration(t.retryInMs)}` : ""}
        </li>
      ))}
    </ol>
  );
}
const PARTS = ["headers", "query", "body", "raw body"] as const;

export function ExecutionPage({ id }: { id: string }) {
  const loaded = useLoad(async () => (await request(ExecutionDocument, { id })).execution, [id]);
  const [part, setPart] = useState<(typeof PARTS)[number]>("body");
  const [canceling, setCanceling] = useState(false);
  const [replaying, setReplaying] = useState(false);
  const [error, setError] = useState<ReturnType<typeof asApiError> | null>(null);
  const execution = loaded.data;
  const running = execution ? RUNNING.has(execution.status) : false;

  const workflowId = execution?.workflow.id ?? null;
  useEffect(() => {
    if (!running || !workflowId) return;
    let timer: ReturnType<typeof setInterval> | undefined;
    const stop = watchExecutions(workflowId, {
      onChange: (changed) => {
        if (changed.some((each) => each.id === id)) void loaded.reload();
      },
      onLive: (on) => {
        if (on) {
          clearInterval(timer);
          timer = undefined;
          void loaded.reload(); // what changed before the subscription started
        } else if (timer === undefined) {
          timer = setInterval(() => void loaded.reload(), 1000);
        }
      },
    });
    return () => {
      stop();
      clearInterval(timer);
    };
  }, [running, id, workflowId]);

  if (!execution) {
    return (
      <section>
        <h1>{loaded.loading ? "Loading execution…" : "No such execution"}</h1>
        <ErrorNote error={loaded.error} />
      </section>
    );
  }

  async function replay() {
    setError(null);
    setReplaying(true);
    try {
      const { replayExecution } = await request(ReplayExecutionDocument, { id });
      navigate(`/executions/${replayExecution.id}`);
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setReplaying(false);
    }
  }

  async function cancel() {
    setCanceling(false);
    setError(null);
    try {
      await request(CancelExecutionDocument, { id });
      await loaded.reload();
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  const context = (execution.context ?? {}) as Record<string, unknown>;
  const took = between(execution.startedAt ?? execution.createdAt, execution.finishedAt);
  const shown = part === "raw body" ? execution.rawBody : json(context[part] ?? null);
  return (
    <section class="stack">
      <nav aria-label="Breadcrumb" class="crumbs">
        <Link href="/executions">Executions</Link> /{" "}
        <Link href={`/workflows/${execution.workflow.id}/executions`}>{execution.workflow.key}</Link>
      </nav>
      <div class="heading-row">
        <h1>
          Execution <StatusBadge status={execution.status} />
        </h1>
        <div class="toolbar">
          <button type="button" class="primary" onClick={replay} disabled={replaying}>
            Replay
          </button>
          {running ? (
            <button type="button" class="danger" onClick={() => setCanceling(true)}>
              Cancel
            </button>
          ) : null}
        </div>
      </div>
      <ErrorNote error={error} />
      <dl class="facts">
        <dt>Workflow</dt>
        <dd>
          <Link href={`/workflows/${execution.workflow.id}`}>{execution.workflow.key}</Link> (version {execution.version})
        </dd>
        <dt>Received</dt>
        <dd>{when(execution.createdAt)}</dd>
        <dt>Took</dt>
        <dd>{took === null ? (running ? "running" : "—") : duration(took)}</dd>
        <dt>Attempts</dt>
        <dd>{execution.attempts}</dd>
        {execution.retries || execution.nextRetryAt || execution.deadLetter ? (
          <>
            <dt>Retries</dt>
            <dd>
              {execution.retries}
              {execution.deadLetter ? " — dead letter: no retry left" : ""}
            </dd>
          </>
        ) : null}
        {execution.nextRetryAt ? (
          <>
            <dt>Next retry</dt>
            <dd>{when(execution.nextRetryAt)}</dd>
          </>
        ) : null}
        {execution.replayOf ? (
          <>
            <dt>Replay of</dt>
            <dd>
              <Link href={`/executions/${execution.replayOf}`}>{execution.replayOf}</Link>
            </dd>
          </>
        ) : null}
        {execution.eventKey ? (
          <>
            <dt>De-duplication key</dt>
            <dd class="mono">{execution.eventKey}</dd>
          </>
        ) : null}
        {execution.error || execution.reason ? (
          <>
            <dt>Error</dt>
            <dd class="error-text">{[execution.error, execution.reason].filter(Boolean).join(" — ")}</dd>
          </>
        ) : null}
        <dt>Id</dt>
        <dd class="mono">{execution.id}</dd>
      </dl>

      <section aria-labelledby="request-heading" class="card">
        <h2 id="request-heading">Request</h2>
        <p class="sub">
          {String(context.method ?? "POST")} {String(context.path ?? "")}
        </p>
        <div role="tablist" aria-label="Request part" class="tabs small">
          {PARTS.map((p) => (
            <button
              type="button"
              role="tab"
              key={p}
              id={`part-${p.replace(" ", "-")}`}
              aria-selected={part === p}
              aria-controls="request-part"
              tabIndex={part === p ? 0 : -1}
              onClick={() => setPart(p)}
              onKeyDown={(e) => {
                const at = PARTS.indexOf(part);
                if (e.key === "ArrowRight") setPart(PARTS[(at + 1) % PARTS.length]);
                if (e.key === "ArrowLeft") setPart(PARTS[(at + PARTS.length - 1) % PARTS.length]);
              }}
            >
              {p}
            </button>
          ))}
        </div>
        <pre id="request-part" role="tabpanel" aria-labelledby={`part-${part.replace(" ", "-")}`} tabIndex={0} class="code">
          {shown}
        </pre>
      </section>

      <section aria-labelledby="jobs-heading" class="card">
        <h2 id="jobs-heading">Jobs</h2>
        <ExecutionTimeline jobs={execution.jobs} start={execution.startedAt ?? execution.createdAt} end={execution.finishedAt} />
        {execution.jobs.length ? (
          <table class="list">
            <caption class="visually-hidden">Jobs</caption>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Status</th>
                <th scope="col">Took</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {execution.jobs.map((job) => {
                const jobTook = between(job.startedAt, job.finishedAt);
                return (
                  <tr key={job.id}>
                    <td>
                      <span class="mono">{job.nodeKey}</span>
                      <div class="sub">{job.nodeType}</div>
                    </td>
                    <td>
                      <StatusBadge status={job.status} />
                      <JobTries tries={job.attempts} nodeKey={job.nodeKey} />
                    </td>
                    <td>{jobTook === null ? "—" : duration(jobTook)}</td>
                    <td>
                      <pre class="code small" tabIndex={0} aria-label={`Result of ${job.nodeKey}`}>
                        {json(job.result)}
                      </pre>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : null}
      </section>

      <section aria-labelledby="answer-heading" class="card">
        <h2 id="answer-heading">Answer</h2>
        {execution.response ? (
          <pre class="code" tabIndex={0} aria-label="Answer sent">
            {json(execution.response)}
          </pre>
        ) : (
          <p>{running ? "Not answered yet." : "No answer was recorded."}</p>
        )}
      </section>
      <ConfirmDialog title="Cancel execution" open={canceling} confirm="Cancel execution" onConfirm={cancel} onClose={() => setCanceling(false)}>
        <p>A queued execution never runs; a started one is marked canceled (its running node is not interrupted).</p>
      </ConfirmDialog>
    </section>
  );
}
