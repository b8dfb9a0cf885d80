// Operations a server of an older version may not have. Each is tried once; a
// GRAPHQL_VALIDATION_FAILED answer (unknown field or argument) marks it missing for the rest
// of the page's life and its fallback runs instead.
import { store } from "../app/store";
import { ApiError } from "./client";

export type Capability = "workflowSearch" | "liveExecutions" | "liveCaptures";

export const missing = store<ReadonlySet<Capability>>(new Set());

export function isMissing(name: Capability): boolean {
  return missing.get().has(name);
}

export function markMissing(name: Capability): void {
  if (!isMissing(name)) missing.set(new Set([...missing.get(), name]));
}

export async function withFallback<T>(
  name: Capability,
  expected: () => Promise<T>,
  fallback: () => Promise<T>,
): Promise<T> {
  if (isMissing(name)) return fallback();
  try {
    return await expected();
  } catch (error) {
    if (error instanceof ApiError && error.code === "GRAPHQL_VALIDATION_FAILED") {
      markMissing(name);
      return fallback();
    }
    throw error;
  }
}
