// Executions per status over time: stacked bars, one per interval, counted by the API
// (`executions(status, since, until) { totalCount }` for each status, one request a bar).
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { useLoad } from "../api/useQuery";
import { StatusCountsDocument, type StatusCountsQuery } from "../graphql/generated";
import { STATUSES } from "../ui/Status";

const WINDOWS = {
  hour: { label: "last hour", bars: 12, step: 5 * 60_000 },
  day: { label: "last 24 hours", bars: 12, step: 2 * 3600_000 },
  week: { label: "last 7 days", bars: 7, step: 24 * 3600_000 },
} as const;
type Window = keyof typeof WINDOWS;

interface Bar {
  start: Date;
  counts: Record<string, number>;
  total: number;
}

async function bars(workflowId: string | null, window: Window): Promise<Bar[]> {
  const { bars: count, step } = WINDOWS[window];
  const end = Math.ceil(Date.now() / step) * step;
  const starts = Array.from({ length: count }, (_, i) => new Date(end - (count - i) * step));
  return Promise.all(
    starts.map(async (start) => {
      const answer: StatusCountsQuery = await request(StatusCountsDocument, {
        workflowId,
        since: start.toISOString(),
        until: new Date(start.getTime() + step).toISOString(),
      });
      const counts = Object.fromEntries(STATUSES.map((s) => [s, answer[s].totalCount]));
      return { start, counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
    }),
  );
}

function label(date: Date, window: Window): string {
  return window === "week"
    ? date.toLocaleDateString(undefined, { weekday: "short", day: "numeric" })
    : date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

const W = 560;
const H = 140;
const AXIS = 20;

export function ExecutionsChart({ workflowId, refresh }: { workflowId: string | null; refresh: number }) {
  const [window, setWindow] = useState<Window>("day");
  const data = useLoad(() => bars(workflowId, window), [workflowId, window, Math.floor(refresh / 1)]);
  const loaded = data.data ?? [];
  const top = Math.max(1, ...loaded.map((b) => b.total));
  const width = (W - 10) / Math.max(1, loaded.length);
  const present = STATUSES.filter((s) => loaded.some((b) => b.counts[s] > 0));
  return (
    <figure class="chart card">
      <div class="heading-row">
        <figcaption id="chart-title">Executions per status, {WINDOWS[window].label}</figcaption>
        <label>
          <span class="visually-hidden">Chart period</span>
          <select value={window} onChange={(e) => setWindow(e.currentTarget.value as Window)}>
            {Object.entries(WINDOWS).map(([name, w]) => (
              <option key={name} value={name}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <svg viewBox={`0 0 ${W} ${H + AXIS}`} role="img" aria-labelledby="chart-title chart-summary" class="bars">
        {loaded.map((bar, i) => {
          let y = H;
          return (
            <g key={bar.start.getTime()}>
              {STATUSES.filter((s) => bar.counts[s]).map((s) => {
                const h = (bar.counts[s] / top) * (H - 10);
                y -= h;
                return <rect key={s} x={5 + i * width + 2} y={y} width={width - 4} height={h} class={`fill-${s.toLowerCase()}`} />;
              })}
              {bar.total ? (
                <text x={5 + i * width + width / 2} y={y - 2} text-anchor="middle" class="bar-total">
                  {bar.total}
                </text>
              ) : null}
              {i % 2 === 0 ? (
                <text x={5 + i * width + width / 2} y={H + 14} text-anchor="middle" class="axis">
                  {label(bar.start, window)}
                </text>
              ) : null}
            </g>
          );
        })}
        <line x1={0} x2={W} y1={H} y2={H} class="baseline" />
      </svg>
      <p id="chart-summary" class="legend">
        {present.length
          ? present.map((s) => (
              <span key={s}>
                <span class={`swatch fill-${s.toLowerCase()}`} aria-hidden="true" />
                {s.toLowerCase()} {loaded.reduce((n, b) => n + b.counts[s], 0)}
              </span>
            ))
          : data.loading
            ? "Counting…"
            : "No executions in this period."}
      </p>
    </figure>
  );
}
