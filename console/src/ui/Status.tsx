// Execution and job statuses: a word, never a colour alone.
export const STATUSES = [
  "QUEUED",
  "STARTED",
  "RESOLVED",
  "FAILED",
  "ERROR",
  "ABORTED",
  "CANCELED",
  "REJECTED",
] as const;

export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status.toLowerCase()}`}>{status}</span>;
}
