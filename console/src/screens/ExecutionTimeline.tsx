// The jobs of an execution on one time axis: a bar per job from its start to its end.
import type { ExecutionQuery } from "../graphql/generated";
import { between, duration } from "../lib/format";

type Job = NonNullable<ExecutionQuery["execution"]>["jobs"][number];

const W = 640;
const ROW = 26;
const LABEL = 150;

export function ExecutionTimeline({ jobs, start, end }: { jobs: Job[]; start: string; end: string | null }) {
  if (!jobs.length) return <p>No jobs ran.</p>;
  const t0 = Math.min(new Date(start).getTime(), ...jobs.map((j) => new Date(j.startedAt).getTime()));
  const finish = (j: Job) => new Date(j.finishedAt ?? j.startedAt).getTime();
  const t1 = Math.max(end ? new Date(end).getTime() : 0, ...jobs.map(finish), t0 + 1);
  const scale = (W - LABEL - 70) / (t1 - t0);
  const height = jobs.length * ROW + 24;
  return (
    <figure class="timeline">
      <svg viewBox={`0 0 ${W} ${height}`} role="img" aria-labelledby="timeline-title">
        <title id="timeline-title">
          {`Timeline of ${jobs.length} job${jobs.length === 1 ? "" : "s"} over ${duration(t1 - t0)}`}
        </title>
        {jobs.map((job, i) => {
          const from = (new Date(job.startedAt).getTime() - t0) * scale;
          const took = between(job.startedAt, job.finishedAt);
          const width = Math.max(2, (finish(job) - new Date(job.startedAt).getTime()) * scale);
          const y = i * ROW + 4;
          return (
            <g key={job.id}>
              <text x={0} y={y + 15} class="axis">
                {job.nodeKey.length > 20 ? job.nodeKey.slice(0, 19) + "…" : job.nodeKey}
              </text>
              <rect x={LABEL + from} y={y + 3} width={width} height={ROW - 8} rx={3} class={`fill-${job.status.toLowerCase()}`} />
              <text x={LABEL + from + width + 4} y={y + 15} class="axis">
                {took === null ? "running" : duration(took)}
              </text>
            </g>
          );
        })}
        <line x1={LABEL} x2={W - 70} y1={height - 16} y2={height - 16} class="baseline" />
        <text x={LABEL} y={height - 2} class="axis">
          0
        </text>
        <text x={W - 70} y={height - 2} class="axis" text-anchor="end">
          {duration(t1 - t0)}
        </text>
      </svg>
    </figure>
  );
}
