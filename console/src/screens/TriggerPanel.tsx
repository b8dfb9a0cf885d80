// The trigger: its URL (copy, a ready curl line, a new key), basic authentication and the
// signature (secrets write-only), de-duplication, rate limit, and the async answer. One
// save sends only the sections that changed, in one updateTrigger (one new version).
import { useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { asApiError } from "../api/useQuery";
import { RegenerateTriggerKeyDocument, type TriggerInput, UpdateTriggerDocument } from "../graphql/generated";
import { json } from "../lib/format";
import { CopyButton } from "../ui/CopyButton";
import { ConfirmDialog } from "../ui/Dialog";
import { ErrorNote, FieldProblems } from "../ui/Problems";
import { ListenPanel } from "./ListenPanel";
import type { TabProps, WorkflowData } from "./WorkflowPage";

type Json = Record<string, unknown>;
const PRESETS = ["github", "stripe", "slack", "shopify", "hmac"];

interface Form {
  authOn: boolean;
  username: string;
  password: string;
  preset: string; // "" = no signature
  secret: string;
  signatureMore: string; // other signature fields, as JSON
  dedupKey: string;
  dedupWindow: string;
  rate: string;
  per: string;
  burst: string;
  statusCode: string;
  headers: string; // "Name: value" lines
  body: string; // JSON
}

function initial(workflow: WorkflowData): Form {
  const trigger = workflow.trigger;
  const options = (trigger.options ?? {}) as Json;
  const { preset = "", ...more } = (options.signature ?? {}) as Json;
  const dedup = (options.deduplicate ?? {}) as Json;
  const rate = (options.rateLimit ?? {}) as Json;
  const text = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  return {
    authOn: trigger.basicAuthentication.enabled,
    username: trigger.basicAuthentication.username ?? "",
    password: "",
    preset: options.signature ? text(preset || "hmac") : "",
    secret: "",
    signatureMore: Object.keys(more).length ? json(more) : "",
    dedupKey: text(dedup.key),
    dedupWindow: text(dedup.window),
    rate: text(rate.rate),
    per: text(rate.per),
    burst: text(rate.burst),
    statusCode: String(trigger.response.statusCode),
    headers: trigger.response.headers.map((h) => `${h.name}: ${typeof h.value === "string" ? h.value : JSON.stringify(h.value)}`).join("\n"),
    body: trigger.response.body === null || trigger.response.body === undefined ? "" : json(trigger.response.body),
  };
}

class FormProblem extends Error {}

function number(text: string, what: string): number | undefined {
  if (!text.trim()) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new FormProblem(`${what} must be a number`);
  return value;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FormProblem(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function sections(form: Form, was: Form): TriggerInput {
  const changed = (...names: (keyof Form)[]) => names.some((n) => form[n] !== was[n]);
  const input: TriggerInput = {};
  if (changed("authOn", "username", "password")) {
    if (!form.authOn) input.basicAuthentication = null;
    else {
      if (!was.authOn && !form.password) throw new FormProblem("Basic authentication needs a password");
      input.basicAuthentication = { username: form.username, ...(form.password ? { password: form.password } : {}) };
    }
  }
  if (changed("preset", "secret", "signatureMore")) {
    if (!form.preset) input.signature = null;
    else {
      const more = form.signatureMore.trim() ? (parseJson(form.signatureMore, "Other signature fields") as Json) : {};
      input.signature = { ...more, preset: form.preset, ...(form.secret ? { secret: form.secret } : {}) };
    }
  }
  if (changed("dedupKey", "dedupWindow")) {
    input.deduplicate = form.dedupKey.trim()
      ? { key: form.dedupKey, ...(form.dedupWindow ? { window: number(form.dedupWindow, "The window") } : {}) }
      : null;
  }
  if (changed("rate", "per", "burst")) {
    const rate = number(form.rate, "The rate");
    input.rateLimit =
      rate === undefined ? null : { rate, per: number(form.per, "Per"), burst: number(form.burst, "The burst") };
  }
  if (changed("statusCode", "headers", "body")) {
    const headers = form.headers
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => {
        const at = line.indexOf(":");
        if (at < 1) throw new FormProblem(`“${line}” is not a “Name: value” header`);
        return { name: line.slice(0, at).trim(), value: line.slice(at + 1).trim() };
      });
    input.response = {
      statusCode: number(form.statusCode, "The status code") ?? 200,
      headers,
      body: form.body.trim() ? parseJson(form.body, "The body") : null,
    };
  }
  return input;
}

export function curlLine(workflow: WorkflowData, username: string | null): string {
  const auth = username ? ` -u '${username}:PASSWORD'` : "";
  return `curl -s -i -X POST '${workflow.trigger.url}'${auth} -H 'content-type: application/json' -d '{"hello": "world"}'`;
}

export function TriggerPanel({ workflow, reload }: TabProps) {
  const was = initial(workflow);
  const [form, setForm] = useState<Form>(was);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState("");
  const [regenerating, setRegenerating] = useState(false);
  const set = (name: keyof Form) => (event: Event) => {
    const target = event.currentTarget as HTMLInputElement;
    setForm({ ...form, [name]: target.type === "checkbox" ? target.checked : target.value });
    setSaved("");
  };
  const problems = (field: string) => error?.about(`trigger.${field}`) ?? [];

  async function save(event: Event) {
    event.preventDefault();
    setError(null);
    setSaved("");
    try {
      const input = sections(form, was);
      if (!Object.keys(input).length) {
        setSaved("Nothing changed.");
        return;
      }
      const { updateTrigger } = await request(UpdateTriggerDocument, { workflowId: workflow.id, input });
      await reload();
      setForm((f) => ({ ...f, password: "", secret: "" }));
      setSaved(`Saved: version ${updateTrigger.workflow.version}.`);
    } catch (caught) {
      setError(caught instanceof FormProblem ? asApiError(new Error(caught.message)) : asApiError(caught));
    }
  }

  async function regenerate() {
    setRegenerating(false);
    try {
      await request(RegenerateTriggerKeyDocument, { workflowId: workflow.id });
      await reload();
      setSaved("A new URL was made; the old one answers 404 from now on.");
    } catch (caught) {
      setError(asApiError(caught));
    }
  }

  const curl = curlLine(workflow, workflow.trigger.basicAuthentication.username);
  return (
    <div class="stack">
      <section aria-labelledby="url-heading" class="card">
        <h2 id="url-heading">Webhook URL</h2>
        <p>
          <label for="trigger-url">POST to</label>
          <input id="trigger-url" class="mono wide" readOnly value={workflow.trigger.url} />
        </p>
        <div class="toolbar">
          <CopyButton text={workflow.trigger.url} label="Copy URL" />
          <button type="button" onClick={() => setRegenerating(true)}>
            Regenerate key
          </button>
        </div>
        <label for="curl-line">Try it</label>
        <textarea id="curl-line" class="mono wide" rows={3} readOnly value={curl} />
        <CopyButton text={curl} label="Copy curl line" />
        {workflow.enabled ? null : <p class="notice">The workflow is disabled: its URL answers 404 until you enable it, or listen for calls below.</p>}
      </section>

      <ListenPanel workflow={workflow} />

      <form onSubmit={save} class="stack" aria-label="Trigger settings">
        <fieldset>
          <legend>Basic authentication</legend>
          <label class="check">
            <input type="checkbox" checked={form.authOn} onChange={set("authOn")} />
            Callers must send a user name and password
          </label>
          {form.authOn ? (
            <div class="grid2">
              <label>
                User name
                <input value={form.username} onInput={set("username")} required autocomplete="off" />
              </label>
              <label>
                Password
                <input
                  type="password"
                  value={form.password}
                  onInput={set("password")}
                  autocomplete="new-password"
                  placeholder={was.authOn ? "unchanged (write-only)" : ""}
                  aria-describedby="password-help"
                />
              </label>
              <p id="password-help" class="help">
                Write-only: the gateway stores a hash and never shows it. Leave empty to keep it.
              </p>
            </div>
          ) : null}
          <FieldProblems problems={problems("basicAuthentication")} id="auth-problems" />
        </fieldset>

        <fieldset>
          <legend>Signature</legend>
          <label>
            Preset
            <select value={form.preset} onChange={set("preset")}>
              <option value="">none</option>
              {PRESETS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          {form.preset ? (
            <>
              <label>
                Secret
                <input
                  type="password"
                  value={form.secret}
                  onInput={set("secret")}
                  autocomplete="new-password"
                  placeholder={was.preset ? "unchanged (write-only)" : ""}
                />
              </label>
              <label>
                Other fields (JSON, e.g. <code>{'{"tolerance": 300}'}</code>)
                <textarea class="mono" rows={2} value={form.signatureMore} onInput={set("signatureMore")} />
              </label>
            </>
          ) : null}
          <FieldProblems problems={problems("signature")} id="signature-problems" />
        </fieldset>

        <fieldset>
          <legend>De-duplication</legend>
          <div class="grid2">
            <label>
              Key template
              <input class="mono" value={form.dedupKey} onInput={set("dedupKey")} placeholder="{{$context.headers.x-github-delivery}}" />
            </label>
            <label>
              Window (seconds)
              <input inputMode="numeric" value={form.dedupWindow} onInput={set("dedupWindow")} />
            </label>
          </div>
          <FieldProblems problems={problems("deduplicate")} id="dedup-problems" />
        </fieldset>

        <fieldset>
          <legend>Rate limit</legend>
          <div class="grid3">
            <label>
              Calls
              <input inputMode="numeric" value={form.rate} onInput={set("rate")} />
            </label>
            <label>
              Per (seconds)
              <input inputMode="numeric" value={form.per} onInput={set("per")} />
            </label>
            <label>
              Burst
              <input inputMode="numeric" value={form.burst} onInput={set("burst")} />
            </label>
          </div>
          <FieldProblems problems={problems("rateLimit")} id="rate-problems" />
        </fieldset>

        {workflow.sync ? null : (
          <fieldset>
            <legend>Async answer (sent at once, before the nodes run)</legend>
            <label>
              Status code
              <input inputMode="numeric" value={form.statusCode} onInput={set("statusCode")} />
            </label>
            <label>
              Headers (one “Name: value” a line)
              <textarea class="mono" rows={2} value={form.headers} onInput={set("headers")} />
            </label>
            <label>
              Body (JSON; templates allowed in strings)
              <textarea class="mono" rows={4} value={form.body} onInput={set("body")} />
            </label>
            <FieldProblems problems={problems("response")} id="response-problems" />
          </fieldset>
        )}
        <ErrorNote error={error} title="Not saved" />
        <div class="actions">
          <button type="submit" class="primary">
            Save trigger
          </button>
          <span role="status">{saved}</span>
        </div>
      </form>
      <ConfirmDialog title="Regenerate key" open={regenerating} confirm="Regenerate" onConfirm={regenerate} onClose={() => setRegenerating(false)}>
        <p>The current URL stops working at once. Callers must be given the new one.</p>
      </ConfirmDialog>
    </div>
  );
}
