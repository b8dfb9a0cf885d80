// What went wrong, as the API said it: a message, and each problem with its field and hint.
import type { ApiError, Problem } from "../api/client";

export function ErrorNote({ error, title }: { error: ApiError | null; title?: string }) {
  if (!error) return null;
  const many = error.problems.length > 1;
  return (
    <div class="error-note" role="alert">
      <p>
        {title ? <strong>{title}: </strong> : null}
        {many ? `${error.problems.length} problems; nothing was changed.` : error.message}
      </p>
      {many ? <ProblemList problems={error.problems} /> : null}
    </div>
  );
}

export function ProblemList({ problems, id }: { problems: Problem[]; id?: string }) {
  if (!problems.length) return null;
  return (
    <ul class="problems" id={id}>
      {problems.map((p) => (
        <li key={p.field + p.message}>
          <code>{p.field}</code>: {p.message}
          {p.hint ? <span class="hint"> ({p.hint})</span> : null}
        </li>
      ))}
    </ul>
  );
}

/** The problems about one field, shown under it (aria-describedby points here). */
export function FieldProblems({ problems, id }: { problems: Problem[]; id: string }) {
  if (!problems.length) return <span id={id} hidden />;
  return (
    <div class="field-problems" id={id} role="alert">
      {problems.map((p) => (
        <p key={p.field + p.message}>
          {p.message}
          {p.hint ? <span class="hint"> ({p.hint})</span> : null}
          {p.field ? <span class="where"> — {p.field}</span> : null}
        </p>
      ))}
    </div>
  );
}
