// Live executions over graphql-transport-ws (graphql-ws), authenticated by the connection
// payload: each message is the list of executions changed since the previous one. When the socket is refused before its acknowledgement (a proxy that does not pass
// WebSockets, or a server without subscriptions) or the operation is unknown,
// `liveExecutions` is marked missing and the lists poll instead.
import { type Client, createClient } from "graphql-ws";
import { session } from "../app/session";
import {
  ExecutionsChangedDocument,
  type ExecutionsChangedSubscription,
} from "../graphql/generated";
import { isMissing, markMissing } from "./capabilities";

export type Changed = ExecutionsChangedSubscription["executionsChanged"][number];

export interface Watch {
  /** The executions changed since the previous call (never empty), oldest change first. */
  onChange(executions: Changed[]): void;
  /** true once the server acknowledged the subscription; false when it cannot (or stops). */
  onLive(live: boolean): void;
}

function socketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/graphql`;
}

/** Watches executions (of `workflowId`, or of all); returns the function that stops it. */
export function watchExecutions(workflowId: string | null, watch: Watch): () => void {
  const token = session.get().token;
  if (!token || isMissing("liveExecutions")) {
    watch.onLive(false);
    return () => {};
  }
  let stopped = false;
  let acknowledged = false;
  const client: Client = createClient({
    url: socketUrl(),
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: 0,
    on: {
      connected: () => {
        acknowledged = true;
        if (!stopped) watch.onLive(true);
      },
    },
  });
  const failed = () => {
    if (stopped) return;
    stopped = true;
    // Refused before any acknowledgement: this server has no subscriptions.
    if (!acknowledged) markMissing("liveExecutions");
    watch.onLive(false);
  };
  client.subscribe<ExecutionsChangedSubscription>(
    { query: ExecutionsChangedDocument.toString(), variables: { workflowId } },
    {
      next: (value) => {
        if (value.errors?.length) {
          markMissing("liveExecutions");
          failed();
        } else if (value.data && !stopped && value.data.executionsChanged.length) {
          watch.onChange(value.data.executionsChanged);
        }
      },
      error: (error) => {
        if (Array.isArray(error)) markMissing("liveExecutions");  // GraphQL errors
        failed();
      },
      complete: () => {},
    },
  );
  return () => {
    stopped = true;
    // Disposing while the socket is still connecting waits for that connection, which
    // rejects when the server refuses it: nothing is left to tell.
    Promise.resolve(client.dispose()).catch(() => {});
  };
}
