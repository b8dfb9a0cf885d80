// Types for the console's operations (src/graphql/*.graphql) from the checked-in SDL, plus
// src/graphql/expected.graphql: what the console asks for that the API does not have yet.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: ["../schema/gateway.graphql", "src/graphql/expected.graphql"],
  documents: ["src/graphql/*.graphql"],
  generates: {
    "src/graphql/generated.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        scalars: { DateTime: "string", JSON: "unknown", ID: "string" },
        dedupeFragments: true,
      },
    },
  },
  hooks: {},
};
export default config;
