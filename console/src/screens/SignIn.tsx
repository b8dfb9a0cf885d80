// Sign in with an admin token: checked with a real query before it is kept.
import { useState } from "preact/hooks";
import { send } from "../api/client";
import { asApiError } from "../api/useQuery";
import { session, signIn } from "../app/session";
import { useStore } from "../app/store";
import { NodeTypesDocument } from "../graphql/generated";

export function SignIn() {
  const { notice } = useStore(session);
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const candidate = token.trim();
    if (!candidate) {
      setError("Paste an admin token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await send(NodeTypesDocument, {}, candidate);
      signIn(candidate);
    } catch (caught) {
      const failed = asApiError(caught);
      setError(
        failed.code === "UNAUTHENTICATED"
          ? "This token was refused. Check that you copied all of it, or make a new one with `gateway token create`."
          : failed.message,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="sign-in">
      <h1>Sign in to the gateway</h1>
      {notice && !error ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit}>
        <label for="token">Admin token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby="token-help token-error"
          aria-invalid={error ? "true" : undefined}
        />
        <p id="token-help" class="help">
          <code>make run</code> prints a temporary token at start-up (
          <code>GATEWAY_DEV: temporary GraphQL admin token: gw_…</code>); otherwise use one from{" "}
          <code>gateway token create</code> or <code>GATEWAY_ADMIN_TOKENS</code>. It is kept in
          this tab only, until you sign out or close it.
        </p>
        {error ? (
          <p id="token-error" class="error-note" role="alert">
            {error}
          </p>
        ) : (
          <span id="token-error" hidden />
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

