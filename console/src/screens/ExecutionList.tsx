// Executions, newest first, of one workflow or all: status and time filters, more pages,
// live updates over the subscription, or polling every 2 s while there is none.
import { useEffect, useRef, useState } from "preact/hooks";
import { request } from "../api/client";
import { watchExecutions } from "../api/live";
import { asApiError, useLoad } from "../api/useQuery";
import { type ExecutionRowFragment, type ExecutionStatus, ExecutionsDocument } from "../graphql/generated";
import { between, duration, when } from "../lib/format";
import { Link } from "../ui/Link";
import { ErrorNote } from "../ui/Problems";
import { STATUSES, StatusBadge } from "../ui/Status";
import { ExecutionsChart } from "./ExecutionsChart";

const PAGE = 20;
const POLL_MS = 2000;

function utcOf(local: string): string | null {
  return local ? new Date(local).toISOString() : null;
}

type Live = "connecting" | "on" | "off";

export function ExecutionList({ workflowId }: { workflowId: string | null }) {
  const [status, setStatus] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [rows, setRows] = useState<ExecutionRowFragment[]>([]);
  const [more, setMore] = useState<{ has: boolean; cursor: string | null }>({ has: false, cursor: null });
  const [total, setTotal] = useState<number | null>(null);
  const [live, setLive] = useState<Live>("connecting");
  const [tick, setTick] = useState(0);
  const [error, setError] = useState<ReturnType<typeof asApiError> | null>(null);
  const shown = useRef(PAGE);

  const variables = {
    workflowId,
    status: (status || null) as ExecutionStatus | null,
    since: utcOf(since),
    until: utcOf(until),
  };

  async function refresh() {
    try {
      const { executions } = await request(ExecutionsDocument, { ...variables, first: Math.min(100, shown.current) });
      setRows(executions.edges.map((e) => e.node));
      setMore({ has: executions.pageInfo.hasNextPage, cursor: executions.pageInfo.endCursor });
      setTotal(executions.totalCount);
      setError(null);
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  const first = useLoad(async () => {
    shown.current = PAGE;
    await refresh();
    return true;
  }, [workflowId, status, since, until]);

  useEffect(() => {
    setLive("connecting");
    return watchExecutions(workflowId, {
      onChange: () => {
        void refresh();
        setTick((t) => t + 1);
      },
      onLive: (on) => {
        setLive(on ? "on" : "off");
        if (on) void refresh(); // what changed between the first load and the subscription
      },
    });
  }, [workflowId, status, since, until]);

  useEffect(() => {
    if (live === "on") return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void refresh();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [live, workflowId, status, since, until]);

  async function loadMore() {
    try {
      const { executions } = await request(ExecutionsDocument, { ...variables, first: PAGE, after: more.cursor });
      setRows((now) => [...now, ...executions.edges.map((e) => e.node)]);
      shown.current += PAGE;
      setMore({ has: executions.pageInfo.hasNextPage, cursor: executions.pageInfo.endCursor });
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  return (
    <div class="stack">
      <ExecutionsChart workflowId={workflowId} refresh={tick + rows.length} />
      <div class="heading-row">
        <h2>Executions</h2>
        <p class={`live live-${live}`} role="status">
          {live === "on"
            ? "Live"
            : live === "connecting"
              ? "Connecting…"
              : "Live updates unavailable (the WebSocket was refused): refreshed every 2 seconds"}
        </p>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Execution filters">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} />
        </label>
        <label>
          Before
          <input type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
        </label>
      </form>
      <ErrorNote error={error ?? first.error} />
      <table class="list" aria-busy={first.loading}>
        <caption class="visually-hidden">Executions{total !== null ? `: ${total}` : ""}</caption>
        <thead>
          <tr>
            <th scope="col">Received</th>
            {workflowId ? null : <th scope="col">Workflow</th>}
            <th scope="col">Status</th>
            <th scope="col">Took</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const took = between(row.startedAt ?? row.createdAt, row.finishedAt);
            return (
              <tr key={row.id}>
                <td>
                  <Link href={`/executions/${row.id}`}>{when(row.createdAt)}</Link>
                  {row.replayOf ? <span class="sub"> (replay)</span> : null}
                </td>
                {workflowId ? null : (
                  <td>
                    <Link href={`/workflows/${row.workflow.id}/executions`}>{row.workflow.key}</Link>
                  </td>
                )}
                <td>
                  <StatusBadge status={row.status} />
                </td>
                <td>{took === null ? "—" : duration(took)}</td>
                <td class="clip">{row.error ?? ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {!rows.length && !first.loading ? <p>No executions match.</p> : null}
      <div class="pager">
        <span>{total !== null ? `${rows.length} of ${total}` : ""}</span>
        {more.has ? (
          <button type="button" onClick={loadMore}>
            Show more
          </button>
        ) : null}
      </div>
    </div>
  );
}
