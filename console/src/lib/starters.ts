// A config to start from for each node type: valid as it is, to be edited.
const equal = (left: string, right: string) => ({
  group: { type: "and", calculations: [{ calculator: "equal", operands: [left, right] }] },
});

export const STARTERS: Record<string, unknown> = {
  condition: { rejectOnFalse: false, calculation: equal("{{$context.body.type}}", "ping") },
  "multi-conditions": {
    continueOnNoMatch: true,
    conditions: [{ title: "ping", calculation: equal("{{$context.body.type}}", "ping") }],
  },
  response: { statusCode: 200, body: { ok: true } },
  end: { endStatus: 1 },
  calculation: { engine: "cel", expression: "1 + 1" },
  request: { method: "POST", url: "https://example.com/hook", data: { event: "{{$context.body}}" } },
  "json-query": { engine: "jmespath", source: "{{$context.body}}", expression: "@" },
  variable: { value: "{{$context.body}}" },
  loop: { target: "{{$context.body.items}}" },
  parallel: { mode: "all" },
  delay: { unit: 1000, duration: 5, endStatus: 1 },
};
