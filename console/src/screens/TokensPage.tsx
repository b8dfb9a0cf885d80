// Admin tokens: the stored ones (not GATEWAY_ADMIN_TOKENS nor the dev token), a new one
// shown once, revoke.
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { asApiError, useLoad } from "../api/useQuery";
import { ApiTokensDocument, CreateApiTokenDocument, RevokeApiTokenDocument } from "../graphql/generated";
import { when } from "../lib/format";
import { CopyButton } from "../ui/CopyButton";
import { ConfirmDialog } from "../ui/Dialog";
import { ErrorNote } from "../ui/Problems";

export function TokensPage() {
  const tokens = useLoad(async () => (await request(ApiTokensDocument)).apiTokens, []);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = useState<{ id: string; name: string } | null>(null);
  const [error, setError] = useState<ReturnType<typeof asApiError> | null>(null);

  async function create(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const { createApiToken } = await request(CreateApiTokenDocument, { name: name.trim() });
      setCreated({ name: createApiToken.apiToken.name, token: createApiToken.token });
      setName("");
      await tokens.reload();
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  async function revoke(id: string) {
    setRevoking(null);
    setError(null);
    try {
      await request(RevokeApiTokenDocument, { id });
      await tokens.reload();
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  return (
    <section class="stack">
      <h1>Admin tokens</h1>
      <p class="help">
        Tokens made here or with <code>gateway token create</code>. Only a hash is stored. Tokens of{" "}
        <code>GATEWAY_ADMIN_TOKENS</code> and the temporary dev token are not listed. Once a stored token
        exists, <code>make run</code> no longer makes a temporary one: keep the token you create.
      </p>
      <ErrorNote error={error ?? tokens.error} />
      <form onSubmit={create} class="inline-form">
        <label for="token-name">New token for</label>
        <input id="token-name" value={name} placeholder="what it is for, e.g. deploy-bot" onInput={(e) => setName(e.currentTarget.value)} maxLength={200} />
        <button type="submit" class="primary">
          Create token
        </button>
      </form>
      {created ? (
        <div class="card created" role="status">
          <p>
            <strong>Token {created.name ? `“${created.name}”` : ""} created.</strong> Copy it now: it is shown
            this once.
          </p>
          <label for="created-token">New token</label>
          <input id="created-token" class="mono wide" readOnly value={created.token} />
          <CopyButton text={created.token} label="Copy token" />
          <button type="button" class="quiet" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      ) : null}
      <table class="list" aria-busy={tokens.loading}>
        <caption class="visually-hidden">Stored admin tokens</caption>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Name</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(tokens.data ?? []).map((t) => (
            <tr key={t.id}>
              <td>{t.id}</td>
              <td>{t.name || <span class="sub">unnamed</span>}</td>
              <td>{when(t.createdAt)}</td>
              <td>{when(t.lastUsedAt)}</td>
              <td>
                <button type="button" class="quiet danger" onClick={() => setRevoking({ id: t.id, name: t.name || `#${t.id}` })} aria-label={`Revoke token ${t.name || t.id}`}>
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {tokens.data && !tokens.data.length ? <p>No stored tokens.</p> : null}
      <ConfirmDialog title="Revoke token" open={revoking !== null} confirm="Revoke" onConfirm={() => revoking && revoke(revoking.id)} onClose={() => setRevoking(null)}>
        <p>Revoke {revoking?.name}? Requests with it are refused from the next one.</p>
      </ConfirmDialog>
    </section>
  );
}
