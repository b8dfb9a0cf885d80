// Listen: open a capture on the workflow and show its calls as they arrive (the
// `capturedCalls` subscription while the capture is open; polled every second while the tab
// is visible when live updates are unavailable). A call can become the parse example or the
// request of a test run.
import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { watchCapture } from "../api/live";
import { asApiError } from "../api/useQuery";
import { navigate } from "../app/router";
import { CaptureCallsDocument, CloseCaptureDocument, type CapturedCallFieldsFragment, OpenCaptureDocument } from "../graphql/generated";
import { when } from "../lib/format";
import { ErrorNote } from "../ui/Problems";
import type { WorkflowData } from "./WorkflowPage";

const POLL_MS = 1000;

interface Listening {
  id: string;
  open: boolean;
  maxCalls: number;
  expiresAt: string;
}

export function ListenPanel({ workflow }: { workflow: WorkflowData }) {
  const [capture, setCapture] = useState<Listening | null>(null);
  const [calls, setCalls] = useState<CapturedCallFieldsFragment[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [polling, setPolling] = useState(false);
  const last = useRef<string | null>(null);

  useEffect(() => {
    if (!capture?.open) return;
    return watchCapture(capture.id, last.current, {
      onCall: (call) => {
        last.current = call.id;
        setCalls((before) => [...before, call]);
      },
      // Unavailable, or lost: polling goes on from the last call shown.
      onLive: (on) => {
        if (!on) setPolling(true);
      },
      onEnd: () => setCapture({ ...capture, open: false }),
    });
  }, [capture]);

  useEffect(() => {
    if (!capture?.open || !polling) return;
    let stopped = false;
    const poll = async () => {
      if (document.visibilityState !== "visible") return;
      try {
        const { capture: now } = await request(CaptureCallsDocument, { id: capture.id, after: last.current });
        if (stopped || !now) return;
        if (now.calls.length) {
          last.current = now.calls[now.calls.length - 1].id;
          setCalls((before) => [...before, ...now.calls]);
        }
        if (!now.open) setCapture({ ...capture, open: false });
      } catch (caught) {
        if (!stopped) setError(asApiError(caught));
      }
    };
    const timer = setInterval(poll, POLL_MS);
    void poll();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [capture, polling]);

  async function listen() {
    setError(null);
    try {
      const { openCapture } = await request(OpenCaptureDocument, { workflowKey: workflow.key });
      last.current = null;
      setCalls([]);
      setPolling(false);
      setCapture(openCapture);
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  async function stop() {
    if (!capture) return;
    try {
      await request(CloseCaptureDocument, { id: capture.id });
      setCapture({ ...capture, open: false });
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  const state = !capture
    ? "Not listening."
    : capture.open
      ? `Listening for up to ${capture.maxCalls} calls until ${when(capture.expiresAt)}${workflow.enabled ? "" : " (the workflow is disabled: calls are answered 202 and nothing runs)"}.`
      : "Stopped listening.";
  return (
    <section aria-labelledby="listen-heading" class="card">
      <div class="heading-row">
        <h2 id="listen-heading">Listen</h2>
        {capture?.open ? (
          <button type="button" onClick={stop}>
            Stop listening
          </button>
        ) : (
          <button type="button" class="primary" onClick={listen}>
            Listen
          </button>
        )}
      </div>
      <p role="status">{state}</p>
      <ErrorNote error={error} />
      {calls.length ? (
        <ol class="captured" aria-label="Captured">
          {calls.map((call) => (
            <li key={call.id}>
              <p>
                <strong>
                  {call.method} {call.path}
                  {call.query ? `?${call.query}` : ""}
                </strong>{" "}
                → {call.answerStatus ?? "—"} · {when(call.receivedAt)}
                {call.truncated ? ` · cut to ${call.body.length} of ${call.size} bytes` : ""}
              </p>
              <details>
                <summary>Headers and body of call #{call.id}</summary>
                <pre class="mono">
                  {Object.entries((call.headers ?? {}) as Record<string, string>)
                    .map(([name, value]) => `${name}: ${value}`)
                    .join("\n")}
                </pre>
                <pre class="mono">{call.body}</pre>
              </details>
              <div class="actions">
                <button type="button" onClick={() => navigate(`/workflows/${workflow.id}/rules?call=${call.id}`)}>
                  Use call #{call.id} as example
                </button>
                <button type="button" onClick={() => navigate(`/workflows/${workflow.id}/nodes?call=${call.id}`)}>
                  Test run with call #{call.id}
                </button>
              </div>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
