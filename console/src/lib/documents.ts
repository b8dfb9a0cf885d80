// Workflow documents (the YAML `gateway apply` takes) on the client: the bundled examples,
// `${NAME:-default}` substitution (GraphQL takes documents literally), and the nested
// branches of a document flattened into createWorkflow's node list.
import { load } from "js-yaml";
import type { NodeInput, WorkflowInput } from "../graphql/generated";

type Json = Record<string, unknown>;

// Workflow test files beside them (`*.test.yaml`, docs/testing.md) are not documents.
const EXAMPLE_FILES = import.meta.glob(["../../../config/workflows/*.yaml", "!**/*.test.yaml"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

export interface Example {
  name: string;
  title: string;
  description: string;
  document: Json;
}

export const EXAMPLES: Example[] = Object.entries(EXAMPLE_FILES)
  .map(([path, text]) => {
    const document = withDefaults(load(text)) as Json;
    return {
      name: path.split("/").pop()!.replace(/\.yaml$/, ""),
      title: String(document.title ?? document.key),
      description: String(document.description ?? ""),
      document,
    };
  })
  .sort((a, b) => a.name.localeCompare(b.name));

/** `${NAME:-default}` → default and `${NAME}` → "" in every string, as an unset variable reads. */
export function withDefaults(value: unknown): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::-([^}]*))?\}/g, (_, fallback) => fallback ?? "");
  }
  if (Array.isArray(value)) return value.map(withDefaults);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withDefaults(v)]));
  }
  return value;
}

/** Nested `branches` → flat nodes naming their `upstream` and `branchIndex`. */
export function flattenNodes(
  nodes: unknown,
  upstream: string | null = null,
  branchIndex: number | null = null,
): NodeInput[] {
  if (!Array.isArray(nodes)) return [];
  return nodes.flatMap((node: Json) => {
    const { branches, ...rest } = node;
    const flat = { ...rest, upstream, branchIndex } as NodeInput;
    const below = Object.entries((branches as Json | undefined) ?? {}).flatMap(([index, chain]) =>
      flattenNodes(chain, String(node.key), Number(index)),
    );
    return [flat, ...below];
  });
}

/** A createWorkflow input from an example, under a new key (the example's URL key dropped). */
export function fromExample(example: Example, key: string, title: string): WorkflowInput {
  const { nodes, trigger, branches: _ignored, ...rest } = example.document;
  const { key: _pinned, ...triggerRest } = (trigger as Json | undefined) ?? {};
  return {
    ...(rest as Partial<WorkflowInput>),
    key,
    title: title || String(rest.title ?? key),
    trigger: triggerRest,
    nodes: flattenNodes(nodes),
  };
}
