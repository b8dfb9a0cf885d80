// Types for the console's operations (src/graphql/*.graphql) from the checked-in SDL.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: ["../schema/gateway.graphql"],
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
