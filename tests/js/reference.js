// Runs a batch of tasks through the real implementations the Python tests compare the
// gateway with, and prints one result per task as JSON:
//   {"value": <JSON>, "type": "<typeof>"} or {"error": "<message>"}
// Tasks (a JSON array on stdin):
//   {"kind": "calculate", "calculation"}          NocoBase's logicCalculate (condition, basic);
//     an operand {"$undefined": true} is JavaScript's undefined (a path leading nowhere)
//   {"kind": "template", "template", "scope"}     how NocoBase's processor renders a config
//   {"kind": "evaluate", "engine", "expression", "scope"}  NocoBase's math.js / formula.js
//   {"kind": "qs", "text"}                        Node's qs.parse with its defaults
//   {"kind": "github-sign", "secret", "payload"}  @octokit/webhooks-methods sign()
//   {"kind": "graphql-audit", "url", "token"}     graphql-http's server audits, run
//     against a live server: [{id, name, status: ok|warn|error, reason}]
'use strict';
// Loaded when a task needs them: NocoBase's packages take seconds to load.
const nocobase = () => ({
  ...require('@nocobase/plugin-workflow/dist/server/logicCalculate'),
  ...require('@nocobase/evaluators'),
  ...require('@nocobase/utils'),
});

// Processor.getParsedValue: parse, append array columns for every parameter, render.
function render(template, scope) {
  const { parse, appendArrayColumn } = nocobase();
  const compiled = parse(template);
  compiled.parameters.forEach(({ key }) => appendArrayColumn(scope, key));
  return compiled(scope);
}

async function audit(url, token) {
  const { serverAudits } = require('graphql-http');
  const authorised = (input, init = {}) =>
    fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
  const results = [];
  for (const { id, name, fn } of serverAudits({ url, fetchFn: authorised })) {
    const result = await fn();
    results.push({ id, name, status: result.status, reason: result.reason ?? null });
  }
  return results;
}

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === 'object') {
    if (value.$undefined === true) return undefined;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

async function run(task) {
  switch (task.kind) {
    case 'calculate':
      return nocobase().logicCalculate(revive(task.calculation));
    case 'template':
      return render(task.template, task.scope);
    case 'evaluate':
      return nocobase().evaluators.get(task.engine)(task.expression, task.scope);
    case 'qs':
      return require('qs').parse(task.text);
    case 'github-sign': {
      const { sign } = await import('@octokit/webhooks-methods');
      return sign(task.secret, task.payload);
    }
    case 'graphql-audit':
      return audit(task.url, task.token);
    default:
      throw new Error(`unknown task ${task.kind}`);
  }
}

function toJSON(value) {
  // formula.js returns its errors (#VALUE!, #NUM!…) as Error values instead of throwing.
  if (value instanceof Error) return { value: {}, type: 'object', returnedError: value.message };
  // As JSON.stringify writes it: undefined → null, NaN and Infinity → null.
  return { value: JSON.parse(JSON.stringify(value) ?? 'null'), type: typeof value };
}

async function answer(tasks) {
  const results = [];
  for (const task of tasks) {
    try {
      results.push(toJSON(await run(task)));
    } catch (error) {
      results.push({ error: String(error && error.message ? error.message : error) });
    }
  }
  return JSON.stringify(results);
}

// One batch on stdin, its answer on stdout; with --serve, one batch per line and one
// answer line each, until stdin closes (a test session keeps NocoBase loaded once).
async function main() {
  if (process.argv.includes('--serve')) {
    const lines = require('readline').createInterface({ input: process.stdin });
    for await (const line of lines) process.stdout.write((await answer(JSON.parse(line))) + '\n');
    return;
  }
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  process.stdout.write(await answer(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
}

main();
