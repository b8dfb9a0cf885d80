// Credentials: names, types and dates of the secrets request nodes use as
// {{$credentials.NAME}}; a secret is typed in to create or rotate one and is never shown.
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { asApiError, useLoad } from "../api/useQuery";
import { CredentialsDocument, DeleteCredentialDocument, SetCredentialDocument } from "../graphql/generated";
import { when } from "../lib/format";
import { ConfirmDialog } from "../ui/Dialog";
import { ErrorNote } from "../ui/Problems";

const TYPES = ["bearer", "basic", "header", "hmac", "secret"];

export function CredentialsPage() {
  const credentials = useLoad(async () => (await request(CredentialsDocument)).credentials, []);
  const [name, setName] = useState("");
  const [type, setType] = useState("bearer");
  const [secret, setSecret] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [error, setError] = useState<ReturnType<typeof asApiError> | null>(null);

  async function save(event: Event) {
    event.preventDefault();
    setError(null);
    setSaved(null);
    try {
      const { setCredential } = await request(SetCredentialDocument, { name: name.trim(), type, secret });
      setSaved(setCredential.name);
      setName("");
      setSecret("");
      await credentials.reload();
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  async function remove(credential: string) {
    setDeleting(null);
    setError(null);
    try {
      await request(DeleteCredentialDocument, { name: credential });
      await credentials.reload();
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  return (
    <section class="stack">
      <h1>Credentials</h1>
      <p class="help">
        Secrets request nodes send as <code>{"{{$credentials.NAME}}"}</code> in a URL, header or body. They are
        stored encrypted and never shown again; setting an existing name rotates its secret. A <code>basic</code>{" "}
        secret is <code>user:password</code>.
      </p>
      <ErrorNote error={error ?? credentials.error} />
      <form onSubmit={save} class="inline-form">
        <label for="credential-name">Name</label>
        <input id="credential-name" value={name} placeholder="e.g. crm" onInput={(e) => setName(e.currentTarget.value)} maxLength={100} required />
        <label for="credential-type">Type</label>
        <select id="credential-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <label for="credential-secret">Secret</label>
        <input id="credential-secret" type="password" autoComplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} required />
        <button type="submit" class="primary">
          Save credential
        </button>
      </form>
      {saved ? (
        <p class="card created" role="status">
          Credential <strong>{saved}</strong> saved.
        </p>
      ) : null}
      <table class="list" aria-busy={credentials.loading}>
        <caption class="visually-hidden">Credentials</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Secret set</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(credentials.data ?? []).map((c) => (
            <tr key={c.name}>
              <td class="mono">{c.name}</td>
              <td>{c.type}</td>
              <td>{when(c.updatedAt)}</td>
              <td>{when(c.lastUsedAt)}</td>
              <td>
                <button type="button" class="quiet danger" onClick={() => setDeleting(c.name)} aria-label={`Delete credential ${c.name}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {credentials.data && !credentials.data.length ? <p>No credentials.</p> : null}
      <ConfirmDialog title="Delete credential" open={deleting !== null} confirm="Delete" onConfirm={() => deleting && remove(deleting)} onClose={() => setDeleting(null)}>
        <p>Delete {deleting}? Request nodes using it fail from their next call.</p>
      </ConfirmDialog>
    </section>
  );
}
