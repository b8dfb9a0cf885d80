"""The GraphQL management API, mounted at `/graphql`: `endpoint` (auth, body limit,
the Strawberry view), `schema` (`queries`, `mutations`, `types`, `executions`, `inputs`,
`pagination`), `loaders`, `errors` and `limits`. See docs/api.md."""
