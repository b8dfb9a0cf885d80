import { ExecutionList } from "./ExecutionList";

export function ExecutionsScreen() {
  return (
    <section>
      <h1>Executions</h1>
      <p class="help">Every workflow's calls, newest first.</p>
      <ExecutionList workflowId={null} />
    </section>
  );
}
