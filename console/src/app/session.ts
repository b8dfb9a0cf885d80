// The admin token, kept in sessionStorage (this tab only, gone when it closes). It leaves
// the page only in the Authorization header and the WebSocket's connection payload.
import { store } from "./store";

const KEY = "gateway.token";

export interface Session {
  token: string | null;
  /** Why the user is asked to sign in again (a refused token), if that is why. */
  notice: string | null;
}

export const session = store<Session>({ token: readToken(), notice: null });

function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token);
  session.set({ token, notice: null });
}

export function signOut(notice: string | null = null): void {
  sessionStorage.removeItem(KEY);
  session.set({ token: null, notice });
}

export const EXPIRED =
  "The server refused your token: it may have been revoked, or the server restarted with a " +
  "new temporary token. Sign in again.";
