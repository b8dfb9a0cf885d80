// Runs a batch of tasks through the real implementations the Python tests compare the
// gateway with, and prints one result per task as JSON:
//   {"value": <JSON>, "type": "<typeof>"} or {"error": "<message>"}
// Tasks (a JSON array on stdin):
//   {"kind": "calculate", "calculation"}          NocoBase's logicCalculate (condition, basic)
//   {"kind": "template", "template", "scope"}     how NocoBase's processor renders a config
//   {"kind": "evaluate", "engine", "expression", "scope"}  NocoBase's math.js / formula.js
//   {"kind": "qs", "text"}                        Node's qs.parse with its defaults
//   {"kind": "github-sign", "secret", "payload"}  @octokit/webhooks-methods sign()
//   {"kind": "graphql-audit", "url", "token"}     graphql-http's server audits, run
//     against a live server: [{id, name, status: ok|warn|error, reason}]
'use strict';
const { logicCalculate } = require('@nocobase/plugin-workflow/dist/server/logicCalculate');
const { evaluators, appendArrayColumn } = require('@nocobase/evaluators');
const { parse } = require('@nocobase/utils');
const qs = require('qs');

// Processor.getParsedValue: parse, append array columns for every parameter, render.
function render(template, scope) {
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

async function run(task) {
  switch (task.kind) {
    case 'calculate':
      return logicCalculate(task.calculation);
    case 'template':
      return render(task.template, task.scope);
    case 'evaluate':
      return evaluators.get(task.engine)(task.expression, task.scope);
    case 'qs':
      return qs.parse(task.text);
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

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const tasks = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const results = [];
  for (const task of tasks) {
    try {
      results.push(toJSON(await run(task)));
    } catch (error) {
      results.push({ error: String(error && error.message ? error.message : error) });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main();
