// Path routing under /console/ with the History API (the server answers index.html for every
// page path). Routes are matched in order; the first match renders.
import { store, useStore } from "./store";

export const BASE = "/console";

function current(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/";
  return (path || "/") + location.search;
}

export const route = store<string>(current());
addEventListener("popstate", () => route.set(current()));

export function navigate(path: string, replace = false): void {
  const url = BASE + path;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  route.set(current());
  window.scrollTo(0, 0);
}

export function useRoute(): { path: string; query: URLSearchParams } {
  const full = useStore(route);
  const [path, search = ""] = full.split("?");
  return { path, query: new URLSearchParams(search) };
}

/** The named parts of `pattern` ("/workflows/:id/:tab?") in `path`, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  if (have.length > want.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const optional = part.endsWith("?");
    const name = part.replace(/^:|\?$/g, "");
    if (i >= have.length) {
      if (!optional) return null;
      continue;
    }
    if (part.startsWith(":")) params[name] = decodeURIComponent(have[i]);
    else if (part !== have[i]) return null;
  }
  return params;
}
