// Live updates over graphql-transport-ws (graphql-ws), authenticated by the connection
// payload: the executions changed (`executionsChanged`, each message the list changed since
// the previous one) and a capture's calls (`capturedCalls`). When the socket is refused
// before its acknowledgement (a proxy that does not pass WebSockets, or a server without
// subscriptions) every live capability is marked missing; when only the operation is
// unknown, its own is. Either way the caller polls instead.
import { createClient } from "graphql-ws";
import { session } from "../app/session";
import {
  CapturedCallsDocument,
  type CapturedCallsSubscription,
  ExecutionsChangedDocument,
  type ExecutionsChangedSubscription,
} from "../graphql/generated";
import { type Capability, isMissing, markMissing } from "./capabilities";

export type Changed = ExecutionsChangedSubscription["executionsChanged"][number];
export type CapturedCall = CapturedCallsSubscription["capturedCalls"];

const LIVE: Capability[] = ["liveExecutions", "liveCaptures"];

export interface Watch {
  /** The executions changed since the previous call (never empty), oldest change first. */
  onChange(executions: Changed[]): void;
  /** true once the server acknowledged the subscription; false when it cannot (or stops). */
  onLive(live: boolean): void;
}

export interface CaptureWatch {
  /** One call the capture recorded, oldest first, each once. */
  onCall(call: CapturedCall): void;
  /** true once the server acknowledged the subscription; false when it cannot (or stops). */
  onLive(live: boolean): void;
  /** The capture has ended (closed, expired or full) and its last call was sent. */
  onEnd(): void;
}

interface Stream<T> {
  onData(data: T): void;
  onLive(live: boolean): void;
  onEnd(): void;
}

function socketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/graphql`;
}

/** An error answer that means the server does not know the operation (not, say, NOT_FOUND). */
function unknownOperation(errors: readonly { extensions?: Record<string, unknown> }[]): boolean {
  return errors.some((e) => (e.extensions?.code ?? "GRAPHQL_VALIDATION_FAILED") === "GRAPHQL_VALIDATION_FAILED");
}

/** One subscription on its own socket; returns the function that stops it. */
function stream<T>(capability: Capability, query: string, variables: Record<string, unknown>, sink: Stream<T>): () => void {
  const token = session.get().token;
  if (!token || isMissing(capability)) {
    sink.onLive(false);
    return () => {};
  }
  let stopped = false;
  let acknowledged = false;
  const client = createClient({
    url: socketUrl(),
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: 0,
    on: {
      connected: () => {
        acknowledged = true;
        if (!stopped) sink.onLive(true);
      },
    },
  });
  const failed = () => {
    if (stopped) return;
    stopped = true;
    // Refused before any acknowledgement: this server has no subscriptions.
    if (!acknowledged) LIVE.forEach(markMissing);
    sink.onLive(false);
  };
  client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors?.length) {
          if (unknownOperation(value.errors)) markMissing(capability);
          failed();
        } else if (value.data && !stopped) {
          sink.onData(value.data);
        }
      },
      error: (error) => {
        if (Array.isArray(error) && unknownOperation(error)) markMissing(capability); // GraphQL errors
        failed();
      },
      complete: () => {
        if (stopped) return;
        stopped = true;
        sink.onEnd();
      },
    },
  );
  return () => {
    stopped = true;
    // Disposing while the socket is still connecting waits for that connection, which
    // rejects when the server refuses it: nothing is left to tell.
    Promise.resolve(client.dispose()).catch(() => {});
  };
}

/** Watches executions (of `workflowId`, or of all); returns the function that stops it. */
export function watchExecutions(workflowId: string | null, watch: Watch): () => void {
  return stream<ExecutionsChangedSubscription>("liveExecutions", ExecutionsChangedDocument.toString(), { workflowId }, {
    onData: (data) => {
      if (data.executionsChanged.length) watch.onChange(data.executionsChanged);
    },
    onLive: watch.onLive,
    onEnd: () => {},
  });
}

/** Watches the calls of capture `captureId` recorded after call `after` (all without it)
 * until the capture ends; returns the function that stops it. */
export function watchCapture(captureId: string, after: string | null, watch: CaptureWatch): () => void {
  return stream<CapturedCallsSubscription>("liveCaptures", CapturedCallsDocument.toString(), { captureId, after }, {
    onData: (data) => watch.onCall(data.capturedCalls),
    onLive: watch.onLive,
    onEnd: watch.onEnd,
  });
}
