// Workflows: search, filters, pages, the last execution of each, create, enable, delete.
import { useEffect, useState } from "preact/hooks";
import { request } from "../api/client";
import { asApiError, useLoad } from "../api/useQuery";
import { navigate } from "../app/router";
import { DeleteWorkflowDocument, SetEnabledDocument } from "../graphql/generated";
import { when } from "../lib/format";
import { ConfirmDialog } from "../ui/Dialog";
import { Link } from "../ui/Link";
import { ErrorNote } from "../ui/Problems";
import { StatusBadge } from "../ui/Status";
import { NewWorkflowDialog } from "./NewWorkflowDialog";
import { type Filters, fetchPage, lastExecution, PAGE, type Row } from "./workflowsQuery";

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function tristate(value: string): boolean | null {
  return value === "" ? null : value === "true";
}

export function WorkflowList() {
  const [search, setSearch] = useState("");
  const [enabled, setEnabled] = useState("");
  const [sync, setSync] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Row | null>(null);
  const [actionError, setActionError] = useState<ReturnType<typeof asApiError> | null>(null);
  const [rows, setRows] = useState<Row[]>([]);
  const settledSearch = useDebounced(search, 250);
  const filters: Filters = { search: settledSearch, enabled: tristate(enabled), sync: tristate(sync) };
  const after = cursors[cursors.length - 1];

  useEffect(() => setCursors([null]), [settledSearch, enabled, sync]);
  const page = useLoad(() => fetchPage(filters, after), [settledSearch, enabled, sync, after]);

  useEffect(() => {
    const loaded = page.data?.rows ?? [];
    setRows(loaded);
    let live = true;
    for (const row of loaded.filter((r) => r.lastExecution === undefined)) {
      lastExecution(row.id)
        .then((last) => {
          if (live) setRows((now) => now.map((r) => (r.id === row.id ? { ...r, lastExecution: last } : r)));
        })
        .catch(() => {});
    }
    return () => {
      live = false;
    };
  }, [page.data]);

  async function toggle(row: Row) {
    setActionError(null);
    try {
      const { updateWorkflow } = await request(SetEnabledDocument, { id: row.id, enabled: !row.enabled });
      setRows((now) => now.map((r) => (r.id === row.id ? { ...r, ...updateWorkflow } : r)));
    } catch (caught) {
      setActionError(asApiError(caught));
    }
  }

  async function remove(row: Row) {
    setDeleting(null);
    setActionError(null);
    try {
      await request(DeleteWorkflowDocument, { id: row.id });
      await page.reload();
    } catch (caught) {
      setActionError(asApiError(caught));
    }
  }

  const data = page.data;
  const first = (cursors.length - 1) * PAGE + 1;
  return (
    <section>
      <div class="heading-row">
        <h1>Workflows</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          New workflow
        </button>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            value={search}
            placeholder="key or title"
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </label>
        <label>
          State
          <select value={enabled} onChange={(e) => setEnabled(e.currentTarget.value)}>
            <option value="">all</option>
            <option value="true">enabled</option>
            <option value="false">disabled</option>
          </select>
        </label>
        <label>
          Answer
          <select value={sync} onChange={(e) => setSync(e.currentTarget.value)}>
            <option value="">sync and async</option>
            <option value="true">sync</option>
            <option value="false">async</option>
          </select>
        </label>
      </form>
      {data?.filteredHere ? (
        <p class="notice" role="status">
          Filtered in the browser, a page at a time: this server's API has no workflow search
          yet.
        </p>
      ) : null}
      <ErrorNote error={page.error ?? actionError} />
      <table class="list" aria-busy={page.loading}>
        <caption class="visually-hidden">Workflows</caption>
        <thead>
          <tr>
            <th scope="col">Workflow</th>
            <th scope="col">Answer</th>
            <th scope="col">Version</th>
            <th scope="col">Last execution</th>
            <th scope="col">Enabled</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td>
                <Link href={`/workflows/${row.id}`}>{row.title || row.key}</Link>
                {row.title && row.title !== row.key ? <div class="sub">{row.key}</div> : null}
              </td>
              <td>{row.sync ? "sync" : "async"}</td>
              <td>{row.version}</td>
              <td>
                {row.lastExecution === undefined ? (
                  <span class="sub">…</span>
                ) : row.lastExecution ? (
                  <Link href={`/executions/${row.lastExecution.id}`}>
                    <StatusBadge status={row.lastExecution.status} />{" "}
                    <span class="sub">{when(row.lastExecution.createdAt)}</span>
                  </Link>
                ) : (
                  <span class="sub">never run</span>
                )}
              </td>
              <td>
                <button
                  type="button"
                  role="switch"
                  class="switch"
                  aria-checked={row.enabled}
                  aria-label={`Enabled: ${row.key}`}
                  onClick={() => toggle(row)}
                >
                  {row.enabled ? "on" : "off"}
                </button>
              </td>
              <td>
                <button type="button" class="quiet danger" onClick={() => setDeleting(row)} aria-label={`Delete ${row.key}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && !rows.length && !page.loading ? <p>No workflow matches.</p> : null}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <span>
          {rows.length ? `${first}–${first + rows.length - 1}` : ""}
          {data?.totalCount != null ? ` of ${data.totalCount}` : ""}
        </span>
        <button
          type="button"
          disabled={!data?.hasNextPage}
          onClick={() => data && setCursors([...cursors, data.endCursor])}
        >
          Next page
        </button>
      </nav>
      <NewWorkflowDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(id) => navigate(`/workflows/${id}`)}
      />
      <ConfirmDialog
        title="Delete workflow"
        open={deleting !== null}
        confirm="Delete"
        onConfirm={() => deleting && remove(deleting)}
        onClose={() => setDeleting(null)}
      >
        <p>
          Delete <strong>{deleting?.key}</strong> and all its executions? Its URL stops
          working at once. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
