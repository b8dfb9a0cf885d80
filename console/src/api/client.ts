// The one way the console talks to the gateway: POST /graphql with a typed operation.
import { EXPIRED, session, signOut } from "../app/session";
import type { TypedDocumentString } from "../graphql/generated";

/** One problem of a BAD_USER_INPUT answer: a path in the workflow document and what is wrong. */
export interface Problem {
  field: string;
  message: string;
  workflow?: string | null;
  hint?: string | null;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field: string | null = null,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }

  /** The problems whose field is `field` or lies below it (`nodes[x].config` covers `nodes[x].config.a`). */
  about(field: string): Problem[] {
    return this.problems.filter(
      (p) => p.field === field || p.field.startsWith(field + ".") || p.field.startsWith(field + "["),
    );
  }
}

interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; field?: string; problems?: Problem[] };
}

function toError(error: GraphQLErrorShape): ApiError {
  const ext = error.extensions ?? {};
  const problems = ext.problems ?? [];
  return new ApiError(error.message, ext.code ?? "UNKNOWN", ext.field ?? null, problems);
}

type Args<V> = V extends Record<string, never> ? [] | [V] : [V];

/** The operation's data with the session's token; a refused token ends the session. */
export async function request<R, V>(document: TypedDocumentString<R, V>, ...[variables]: Args<V>): Promise<R> {
  const token = session.get().token;
  try {
    return await send(document, variables, token);
  } catch (error) {
    if (error instanceof ApiError && error.code === "UNAUTHENTICATED" && token) signOut(EXPIRED);
    throw error;
  }
}

/** The operation's data with the given token (signing in tries a token with this). */
export async function send<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V | undefined,
  token: string | null,
): Promise<R> {
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError("The gateway cannot be reached. Is it running?", "NETWORK");
  }
  let answer: { data?: R | null; errors?: GraphQLErrorShape[] };
  try {
    answer = await response.json();
  } catch {
    throw new ApiError(`The gateway answered HTTP ${response.status}`, "HTTP_" + response.status);
  }
  const first = answer.errors?.[0];
  if (first) throw toError(first);
  return answer.data as R;
}
