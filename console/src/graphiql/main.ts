// GraphiQL, served by the gateway at GET /graphql from the Python package (no CDN). Requests
// carry the token of the console's session in this tab when the headers tab sets none.
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import "./page.css";
import { createElement } from "react";
import { createRoot } from "react-dom/client";

type Params = Record<string, unknown>;

async function fetcher(params: Params, options?: { headers?: Record<string, string> }) {
  const headers: Record<string, string> = { "content-type": "application/json", ...(options?.headers ?? {}) };
  const named = Object.keys(headers).some((name) => name.toLowerCase() === "authorization");
  const token = sessionStorage.getItem("gateway.token");
  if (!named && token) headers.authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify(params),
    credentials: "omit",
  });
  return response.json();
}

const DEFAULT_QUERY = `# Sign in to the console in this tab, or set
#   {"Authorization": "Bearer gw_…"}
# in the Headers tab below.
{
  workflows(first: 10) {
    totalCount
    edges { node { key title enabled trigger { url } } }
  }
}
`;

createRoot(document.getElementById("graphiql")!).render(
  createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY, isHeadersEditorEnabled: true, shouldPersistHeaders: false }),
);
