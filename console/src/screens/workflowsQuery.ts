// A page of workflows with the list's filters. With the API's search (this server's) the
// server filters; without it, pages of 100 are read and filtered here, a bounded number per
// page shown, and the last execution of each row is asked for one by one.
import { withFallback } from "../api/capabilities";
import { request } from "../api/client";
import {
  LastExecutionDocument,
  WorkflowsDocument,
  WorkflowsSearchDocument,
  type WorkflowRowFragment,
} from "../graphql/generated";

export interface Filters {
  search: string;
  enabled: boolean | null;
  sync: boolean | null;
}

export interface LastRun {
  id: string;
  status: string;
  createdAt: string;
}

export interface Row extends WorkflowRowFragment {
  lastExecution: LastRun | null | undefined; // undefined: still loading
}

export interface Page {
  rows: Row[];
  endCursor: string | null;
  hasNextPage: boolean;
  /** null when the page was filtered here and the total is unknown */
  totalCount: number | null;
  filteredHere: boolean;
}

export const PAGE = 20;
const SCAN_PAGE = 100;
const SCAN_LIMIT = 20; // requests per page shown: 2,000 workflows looked at

export function fetchPage(filters: Filters, after: string | null): Promise<Page> {
  return withFallback(
    "workflowSearch",
    async () => {
      const { workflows } = await request(WorkflowsSearchDocument, {
        enabled: filters.enabled,
        sync: filters.sync,
        search: filters.search || null,
        first: PAGE,
        after,
      });
      return {
        rows: workflows.edges.map((e) => e.node),
        endCursor: workflows.pageInfo.endCursor,
        hasNextPage: workflows.pageInfo.hasNextPage,
        totalCount: workflows.totalCount,
        filteredHere: false,
      };
    },
    () => scan(filters, after),
  );
}

function matches(row: WorkflowRowFragment, filters: Filters): boolean {
  if (filters.sync !== null && row.sync !== filters.sync) return false;
  const needle = filters.search.trim().toLowerCase();
  return !needle || `${row.key} ${row.title}`.toLowerCase().includes(needle);
}

async function scan(filters: Filters, after: string | null): Promise<Page> {
  const here = Boolean(filters.search.trim()) || filters.sync !== null;
  const rows: Row[] = [];
  let cursor = after;
  let hasNextPage = true;
  let totalCount: number | null = null;
  for (let i = 0; i < (here ? SCAN_LIMIT : 1) && hasNextPage && rows.length < PAGE; i++) {
    const { workflows } = await request(WorkflowsDocument, {
      enabled: filters.enabled,
      first: here ? SCAN_PAGE : PAGE,
      after: cursor,
    });
    totalCount = workflows.totalCount;
    hasNextPage = workflows.pageInfo.hasNextPage;
    cursor = workflows.pageInfo.endCursor;
    for (const [index, { node }] of workflows.edges.entries()) {
      if (!matches(node, filters)) continue;
      rows.push({ ...node, lastExecution: undefined });
      if (rows.length === PAGE) {
        // Resume right after the last row kept; the scanned rest is looked at again.
        const more = index < workflows.edges.length - 1;
        hasNextPage = hasNextPage || more;
        cursor = more ? encodeAfter(workflows.edges, index) : cursor;
        break;
      }
    }
  }
  return { rows, endCursor: cursor, hasNextPage, totalCount: here ? null : totalCount, filteredHere: here };
}

/** The cursor of the row at `index`: the API answers each edge's own cursor. */
function encodeAfter(edges: { cursor?: string }[], index: number): string | null {
  return edges[index].cursor ?? null;
}

export async function lastExecution(workflowId: string): Promise<LastRun | null> {
  const { executions } = await request(LastExecutionDocument, { workflowId });
  return executions.edges[0]?.node ?? null;
}
