/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Basic authentication; leave out the password to keep the stored one */
export type BasicAuthInput = {
  password?: string | null | undefined;
  username: string;
};

/** NocoBase's execution statuses */
export type ExecutionStatus =
  | 'ABORTED'
  | 'CANCELED'
  | 'ERROR'
  | 'FAILED'
  | 'QUEUED'
  | 'REJECTED'
  | 'RESOLVED'
  | 'STARTED';

export type HeaderInput = {
  name: string;
  value: unknown;
};

/** NocoBase's job statuses */
export type JobStatus =
  | 'ABORTED'
  | 'CANCELED'
  | 'ERROR'
  | 'FAILED'
  | 'PENDING'
  | 'REJECTED'
  | 'RESOLVED';

/** A node, flat: upstream names an earlier branching node */
export type NodeInput = {
  branchIndex?: number | null | undefined;
  config?: unknown;
  key: string;
  /** The result a test run gives it (not sent) */
  pinned?: unknown;
  title?: string | null | undefined;
  type: string;
  upstream?: string | null | undefined;
};

/** Where a parse rule reads its value */
export type ParseSource =
  | 'BODY'
  | 'HEADERS'
  | 'QUERY';

export type RequestInput = {
  body?: Array<RuleInput> | null | undefined;
  headers?: Array<RuleInput> | null | undefined;
  query?: Array<RuleInput> | null | undefined;
};

/** The answer an async call gets (default 200, ok) */
export type ResponseInput = {
  body?: unknown;
  headers?: Array<HeaderInput> | null | undefined;
  statusCode?: number | null | undefined;
};

/** A parse rule inside a trigger's request block */
export type RuleInput = {
  alias?: string | null | undefined;
  key: string;
  required?: boolean | null | undefined;
  type?: string | null | undefined;
  var?: string | null | undefined;
};

/** A request to test with; `body` (JSON) or `rawBody`, not both */
export type TestRequestInput = {
  body?: unknown;
  /** Name → value */
  headers?: unknown;
  method?: string;
  /** A query string */
  query?: string | null | undefined;
  rawBody?: string | null | undefined;
};

export type TriggerInput = {
  basicAuthentication?: BasicAuthInput | null | undefined;
  deduplicate?: unknown;
  /** Pin the URL key (22+ URL-safe characters); left out: kept or random */
  key?: string | null | undefined;
  rateLimit?: unknown;
  request?: RequestInput | null | undefined;
  response?: ResponseInput | null | undefined;
  signature?: unknown;
};

/** Fields to change; a new upstream or branch moves the node */
export type UpdateNodeInput = {
  branchIndex?: number | null | undefined;
  config?: unknown;
  key?: string | null | undefined;
  /** The result a test run gives it; null: none */
  pinned?: unknown;
  title?: string | null | undefined;
  type?: string | null | undefined;
  upstream?: string | null | undefined;
};

/** Fields to change; a new source moves the rule to that list */
export type UpdateParseRuleInput = {
  alias?: string | null | undefined;
  key?: string | null | undefined;
  required?: boolean | null | undefined;
  source?: ParseSource | null | undefined;
  type?: string | null | undefined;
  var?: string | null | undefined;
};

/** Fields to replace; trigger and nodes are replaced whole */
export type UpdateWorkflowInput = {
  description?: string | null | undefined;
  enabled?: boolean | null | undefined;
  /** Must be the current key: keys do not change */
  key?: string | null | undefined;
  nodes?: Array<NodeInput> | null | undefined;
  options?: unknown;
  sync?: boolean | null | undefined;
  title?: string | null | undefined;
  trigger?: TriggerInput | null | undefined;
};

/** A whole workflow document, as `gateway apply` takes it */
export type WorkflowInput = {
  description?: string | null | undefined;
  enabled?: boolean | null | undefined;
  key: string;
  nodes?: Array<NodeInput> | null | undefined;
  options?: unknown;
  sync?: boolean | null | undefined;
  title?: string | null | undefined;
  trigger?: TriggerInput | null | undefined;
};

export type CredentialsQueryVariables = Exact<{ [key: string]: never; }>;


export type CredentialsQuery = { credentials: Array<{ name: string, type: string, createdAt: string, updatedAt: string, lastUsedAt: string | null }> };

export type SetCredentialMutationVariables = Exact<{
  name: string;
  type: string;
  secret: string;
}>;


export type SetCredentialMutation = { setCredential: { name: string, type: string } };

export type DeleteCredentialMutationVariables = Exact<{
  name: string;
}>;


export type DeleteCredentialMutation = { deleteCredential: string };

export type ExecutionRowFragment = { id: string, status: ExecutionStatus, createdAt: string, startedAt: string | null, finishedAt: string | null, error: string | null, replayOf: string | null, workflow: { id: string, key: string } };

export type ExecutionsQueryVariables = Exact<{
  workflowId?: string | null | undefined;
  status?: ExecutionStatus | null | undefined;
  since?: string | null | undefined;
  until?: string | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type ExecutionsQuery = { executions: { totalCount: number, edges: Array<{ node: { id: string, status: ExecutionStatus, createdAt: string, startedAt: string | null, finishedAt: string | null, error: string | null, replayOf: string | null, workflow: { id: string, key: string } } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type StatusCountsQueryVariables = Exact<{
  workflowId?: string | null | undefined;
  since: string;
  until: string;
}>;


export type StatusCountsQuery = { QUEUED: { totalCount: number }, STARTED: { totalCount: number }, RESOLVED: { totalCount: number }, FAILED: { totalCount: number }, ERROR: { totalCount: number }, ABORTED: { totalCount: number }, CANCELED: { totalCount: number }, REJECTED: { totalCount: number } };

export type ExecutionQueryVariables = Exact<{
  id: string;
}>;


export type ExecutionQuery = { execution: { response: unknown, reason: string | null, eventKey: string | null, attempts: number, retries: number, nextRetryAt: string | null, deadLetter: boolean, version: number, context: unknown, rawBody: string, id: string, status: ExecutionStatus, createdAt: string, startedAt: string | null, finishedAt: string | null, error: string | null, replayOf: string | null, jobs: Array<{ id: string, nodeKey: string, nodeType: string, status: JobStatus, result: unknown, startedAt: string, finishedAt: string | null, attempts: unknown }>, workflow: { id: string, key: string } } | null };

export type ReplayExecutionMutationVariables = Exact<{
  id: string;
}>;


export type ReplayExecutionMutation = { replayExecution: { id: string } };

export type CancelExecutionMutationVariables = Exact<{
  id: string;
}>;


export type CancelExecutionMutation = { cancelExecution: { id: string, status: ExecutionStatus } };

export type ExecutionsChangedSubscriptionVariables = Exact<{
  workflowId?: string | null | undefined;
}>;


export type ExecutionsChangedSubscription = { executionsChanged: Array<{ id: string, status: ExecutionStatus, createdAt: string, startedAt: string | null, finishedAt: string | null, error: string | null, replayOf: string | null, workflow: { id: string, key: string } }> };

export type NodeTypesQueryVariables = Exact<{ [key: string]: never; }>;


export type NodeTypesQuery = { nodeTypes: Array<{ name: string, title: string, description: string, branching: boolean, syncOnly: boolean, asyncOnly: boolean }> };

export type CapturedCallFieldsFragment = { id: string, receivedAt: string, method: string, path: string, headers: unknown, query: string, body: string, size: number, truncated: boolean, answerStatus: number | null };

export type OpenCaptureMutationVariables = Exact<{
  workflowKey: string;
  maxCalls?: number | null | undefined;
  seconds?: number | null | undefined;
}>;


export type OpenCaptureMutation = { openCapture: { id: string, open: boolean, maxCalls: number, callsCount: number, expiresAt: string } };

export type CloseCaptureMutationVariables = Exact<{
  id: string;
}>;


export type CloseCaptureMutation = { closeCapture: { id: string, open: boolean } };

export type CaptureCallsQueryVariables = Exact<{
  id: string;
  after?: string | null | undefined;
}>;


export type CaptureCallsQuery = { capture: { id: string, open: boolean, callsCount: number, maxCalls: number, expiresAt: string, calls: Array<{ id: string, receivedAt: string, method: string, path: string, headers: unknown, query: string, body: string, size: number, truncated: boolean, answerStatus: number | null }> } | null };

export type ParseCapturedCallQueryVariables = Exact<{
  source: ParseSource;
  capturedCallId: string;
}>;


export type ParseCapturedCallQuery = { parseExample: Array<{ path: string, type: string, example: unknown, ruleType: string | null }> };

export type TestRunWorkflowMutationVariables = Exact<{
  workflowKey: string;
  request?: TestRequestInput | null | undefined;
  capturedCallId?: string | null | undefined;
  sideEffects?: boolean;
  skipAuthentication?: boolean;
}>;


export type TestRunWorkflowMutation = { testRunWorkflow: { workflow: string, version: number | null, origin: string, authentication: string, status: string, rejected: boolean, error: string | null, reason: string | null, testCase: string, answer: { status: number, headers: unknown, body: unknown }, nodes: Array<{ key: string, type: string, upstream: string | null, status: string, result: unknown, error: string | null, durationMs: number | null, branch: number | null, rendered: unknown, note: string | null, request: unknown }> } };

export type CapturedCallsSubscriptionVariables = Exact<{
  captureId: string;
  after?: string | null | undefined;
}>;


export type CapturedCallsSubscription = { capturedCalls: { id: string, receivedAt: string, method: string, path: string, headers: unknown, query: string, body: string, size: number, truncated: boolean, answerStatus: number | null } };

export type ApiTokensQueryVariables = Exact<{ [key: string]: never; }>;


export type ApiTokensQuery = { apiTokens: Array<{ id: string, name: string, createdAt: string, lastUsedAt: string | null }> };

export type CreateApiTokenMutationVariables = Exact<{
  name: string;
}>;


export type CreateApiTokenMutation = { createApiToken: { token: string, apiToken: { id: string, name: string } } };

export type RevokeApiTokenMutationVariables = Exact<{
  id: string;
}>;


export type RevokeApiTokenMutation = { revokeApiToken: string };

export type RuleFieldsFragment = { id: string, source: ParseSource, key: string, alias: string | null, var: string | null, required: boolean, type: string | null };

export type TriggerFieldsFragment = { id: string, key: string, url: string, options: unknown, basicAuthentication: { enabled: boolean, username: string | null }, response: { statusCode: number, body: unknown, headers: Array<{ name: string, value: unknown }> }, parseRules: Array<{ id: string, source: ParseSource, key: string, alias: string | null, var: string | null, required: boolean, type: string | null }> };

export type NodeFieldsFragment = { id: string, key: string, type: string, title: string, config: unknown, upstream: string | null, branchIndex: number | null };

export type WorkflowFieldsFragment = { id: string, key: string, title: string, description: string, enabled: boolean, sync: boolean, version: number, options: unknown, updatedAt: string, trigger: { id: string, key: string, url: string, options: unknown, basicAuthentication: { enabled: boolean, username: string | null }, response: { statusCode: number, body: unknown, headers: Array<{ name: string, value: unknown }> }, parseRules: Array<{ id: string, source: ParseSource, key: string, alias: string | null, var: string | null, required: boolean, type: string | null }> }, nodes: Array<{ id: string, key: string, type: string, title: string, config: unknown, upstream: string | null, branchIndex: number | null }> };

export type WorkflowQueryVariables = Exact<{
  id: string;
}>;


export type WorkflowQuery = { workflow: { id: string, key: string, title: string, description: string, enabled: boolean, sync: boolean, version: number, options: unknown, updatedAt: string, trigger: { id: string, key: string, url: string, options: unknown, basicAuthentication: { enabled: boolean, username: string | null }, response: { statusCode: number, body: unknown, headers: Array<{ name: string, value: unknown }> }, parseRules: Array<{ id: string, source: ParseSource, key: string, alias: string | null, var: string | null, required: boolean, type: string | null }> }, nodes: Array<{ id: string, key: string, type: string, title: string, config: unknown, upstream: string | null, branchIndex: number | null }> } | null };

export type WorkflowDocumentQueryVariables = Exact<{
  id: string;
}>;


export type WorkflowDocumentQuery = { workflow: { id: string, key: string, version: number, document: unknown } | null };

export type UpdateTriggerMutationVariables = Exact<{
  workflowId: string;
  input: TriggerInput;
}>;


export type UpdateTriggerMutation = { updateTrigger: { id: string, key: string, url: string, options: unknown, workflow: { id: string, version: number }, basicAuthentication: { enabled: boolean, username: string | null }, response: { statusCode: number, body: unknown, headers: Array<{ name: string, value: unknown }> }, parseRules: Array<{ id: string, source: ParseSource, key: string, alias: string | null, var: string | null, required: boolean, type: string | null }> } };

export type RegenerateTriggerKeyMutationVariables = Exact<{
  workflowId: string;
}>;


export type RegenerateTriggerKeyMutation = { regenerateTriggerKey: { id: string, key: string, url: string, options: unknown, basicAuthentication: { enabled: boolean, username: string | null }, response: { statusCode: number, body: unknown, headers: Array<{ name: string, value: unknown }> }, parseRules: Array<{ id: string, source: ParseSource, key: string, alias: string | null, var: string | null, required: boolean, type: string | null }> } };

export type ParseExampleMutationVariables = Exact<{
  source: ParseSource;
  example: string;
}>;


export type ParseExampleMutation = { parseExample: Array<{ path: string, type: string, example: unknown, ruleType: string | null }> };

export type UpdateParseRuleMutationVariables = Exact<{
  id: string;
  input: UpdateParseRuleInput;
}>;


export type UpdateParseRuleMutation = { updateParseRule: { id: string, source: ParseSource, key: string, alias: string | null, var: string | null, required: boolean, type: string | null } };

export type DeleteParseRuleMutationVariables = Exact<{
  id: string;
}>;


export type DeleteParseRuleMutation = { deleteParseRule: { id: string } };

export type CreateNodeMutationVariables = Exact<{
  workflowId: string;
  input: NodeInput;
  position?: number | null | undefined;
}>;


export type CreateNodeMutation = { createNode: { id: string, key: string, type: string, title: string, config: unknown, upstream: string | null, branchIndex: number | null } };

export type UpdateNodeMutationVariables = Exact<{
  id: string;
  input: UpdateNodeInput;
  position?: number | null | undefined;
}>;


export type UpdateNodeMutation = { updateNode: { id: string, key: string, type: string, title: string, config: unknown, upstream: string | null, branchIndex: number | null } };

export type DeleteNodeMutationVariables = Exact<{
  id: string;
}>;


export type DeleteNodeMutation = { deleteNode: { id: string, version: number } };

export type ApplyWorkflowsMutationVariables = Exact<{
  documents: Array<unknown> | unknown;
  dryRun: boolean;
}>;


export type ApplyWorkflowsMutation = { applyWorkflows: Array<{ action: string, key: string, version: number | null, previousVersion: number | null, changed: Array<string>, url: string | null }> };

export type WorkflowRowFragment = { id: string, key: string, title: string, enabled: boolean, sync: boolean, version: number, updatedAt: string };

export type WorkflowsQueryVariables = Exact<{
  enabled?: boolean | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type WorkflowsQuery = { workflows: { totalCount: number, edges: Array<{ cursor: string, node: { id: string, key: string, title: string, enabled: boolean, sync: boolean, version: number, updatedAt: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type WorkflowsSearchQueryVariables = Exact<{
  enabled?: boolean | null | undefined;
  sync?: boolean | null | undefined;
  search?: string | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type WorkflowsSearchQuery = { workflows: { totalCount: number, edges: Array<{ node: { id: string, key: string, title: string, enabled: boolean, sync: boolean, version: number, updatedAt: string, lastExecution: { id: string, status: ExecutionStatus, createdAt: string } | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type LastExecutionQueryVariables = Exact<{
  workflowId: string;
}>;


export type LastExecutionQuery = { executions: { edges: Array<{ node: { id: string, status: ExecutionStatus, createdAt: string } }> } };

export type WorkflowByKeyQueryVariables = Exact<{
  key: string;
}>;


export type WorkflowByKeyQuery = { workflow: { id: string, key: string, title: string, enabled: boolean, sync: boolean, version: number, updatedAt: string } | null };

export type CreateWorkflowMutationVariables = Exact<{
  input: WorkflowInput;
}>;


export type CreateWorkflowMutation = { createWorkflow: { id: string, key: string } };

export type SetEnabledMutationVariables = Exact<{
  id: string;
  enabled: boolean;
}>;


export type SetEnabledMutation = { updateWorkflow: { id: string, key: string, title: string, enabled: boolean, sync: boolean, version: number, updatedAt: string } };

export type UpdateWorkflowFieldsMutationVariables = Exact<{
  id: string;
  input: UpdateWorkflowInput;
}>;


export type UpdateWorkflowFieldsMutation = { updateWorkflow: { id: string, key: string, title: string, enabled: boolean, sync: boolean, version: number, updatedAt: string } };

export type DeleteWorkflowMutationVariables = Exact<{
  id: string;
}>;


export type DeleteWorkflowMutation = { deleteWorkflow: string };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ExecutionRowFragmentDoc = new TypedDocumentString(`
    fragment ExecutionRow on Execution {
  id
  status
  createdAt
  startedAt
  finishedAt
  error
  replayOf
  workflow {
    id
    key
  }
}
    `, {"fragmentName":"ExecutionRow"}) as unknown as TypedDocumentString<ExecutionRowFragment, unknown>;
export const CapturedCallFieldsFragmentDoc = new TypedDocumentString(`
    fragment CapturedCallFields on CapturedCall {
  id
  receivedAt
  method
  path
  headers
  query
  body
  size
  truncated
  answerStatus
}
    `, {"fragmentName":"CapturedCallFields"}) as unknown as TypedDocumentString<CapturedCallFieldsFragment, unknown>;
export const RuleFieldsFragmentDoc = new TypedDocumentString(`
    fragment RuleFields on ParseRule {
  id
  source
  key
  alias
  var
  required
  type
}
    `, {"fragmentName":"RuleFields"}) as unknown as TypedDocumentString<RuleFieldsFragment, unknown>;
export const TriggerFieldsFragmentDoc = new TypedDocumentString(`
    fragment TriggerFields on Trigger {
  id
  key
  url
  options
  basicAuthentication {
    enabled
    username
  }
  response {
    statusCode
    headers {
      name
      value
    }
    body
  }
  parseRules {
    ...RuleFields
  }
}
    fragment RuleFields on ParseRule {
  id
  source
  key
  alias
  var
  required
  type
}`, {"fragmentName":"TriggerFields"}) as unknown as TypedDocumentString<TriggerFieldsFragment, unknown>;
export const NodeFieldsFragmentDoc = new TypedDocumentString(`
    fragment NodeFields on Node {
  id
  key
  type
  title
  config
  upstream
  branchIndex
}
    `, {"fragmentName":"NodeFields"}) as unknown as TypedDocumentString<NodeFieldsFragment, unknown>;
export const WorkflowFieldsFragmentDoc = new TypedDocumentString(`
    fragment WorkflowFields on Workflow {
  id
  key
  title
  description
  enabled
  sync
  version
  options
  updatedAt
  trigger {
    ...TriggerFields
  }
  nodes {
    ...NodeFields
  }
}
    fragment RuleFields on ParseRule {
  id
  source
  key
  alias
  var
  required
  type
}
fragment TriggerFields on Trigger {
  id
  key
  url
  options
  basicAuthentication {
    enabled
    username
  }
  response {
    statusCode
    headers {
      name
      value
    }
    body
  }
  parseRules {
    ...RuleFields
  }
}
fragment NodeFields on Node {
  id
  key
  type
  title
  config
  upstream
  branchIndex
}`, {"fragmentName":"WorkflowFields"}) as unknown as TypedDocumentString<WorkflowFieldsFragment, unknown>;
export const WorkflowRowFragmentDoc = new TypedDocumentString(`
    fragment WorkflowRow on Workflow {
  id
  key
  title
  enabled
  sync
  version
  updatedAt
}
    `, {"fragmentName":"WorkflowRow"}) as unknown as TypedDocumentString<WorkflowRowFragment, unknown>;
export const CredentialsDocument = new TypedDocumentString(`
    query Credentials {
  credentials {
    name
    type
    createdAt
    updatedAt
    lastUsedAt
  }
}
    `) as unknown as TypedDocumentString<CredentialsQuery, CredentialsQueryVariables>;
export const SetCredentialDocument = new TypedDocumentString(`
    mutation SetCredential($name: String!, $type: String!, $secret: String!) {
  setCredential(name: $name, type: $type, secret: $secret) {
    name
    type
  }
}
    `) as unknown as TypedDocumentString<SetCredentialMutation, SetCredentialMutationVariables>;
export const DeleteCredentialDocument = new TypedDocumentString(`
    mutation DeleteCredential($name: String!) {
  deleteCredential(name: $name)
}
    `) as unknown as TypedDocumentString<DeleteCredentialMutation, DeleteCredentialMutationVariables>;
export const ExecutionsDocument = new TypedDocumentString(`
    query Executions($workflowId: ID, $status: ExecutionStatus, $since: DateTime, $until: DateTime, $first: Int!, $after: String) {
  executions(
    workflowId: $workflowId
    status: $status
    since: $since
    until: $until
    first: $first
    after: $after
  ) {
    totalCount
    edges {
      node {
        ...ExecutionRow
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment ExecutionRow on Execution {
  id
  status
  createdAt
  startedAt
  finishedAt
  error
  replayOf
  workflow {
    id
    key
  }
}`) as unknown as TypedDocumentString<ExecutionsQuery, ExecutionsQueryVariables>;
export const StatusCountsDocument = new TypedDocumentString(`
    query StatusCounts($workflowId: ID, $since: DateTime!, $until: DateTime!) {
  QUEUED: executions(
    workflowId: $workflowId
    status: QUEUED
    since: $since
    until: $until
    first: 1
  ) {
    totalCount
  }
  STARTED: executions(
    workflowId: $workflowId
    status: STARTED
    since: $since
    until: $until
    first: 1
  ) {
    totalCount
  }
  RESOLVED: executions(
    workflowId: $workflowId
    status: RESOLVED
    since: $since
    until: $until
    first: 1
  ) {
    totalCount
  }
  FAILED: executions(
    workflowId: $workflowId
    status: FAILED
    since: $since
    until: $until
    first: 1
  ) {
    totalCount
  }
  ERROR: executions(
    workflowId: $workflowId
    status: ERROR
    since: $since
    until: $until
    first: 1
  ) {
    totalCount
  }
  ABORTED: executions(
    workflowId: $workflowId
    status: ABORTED
    since: $since
    until: $until
    first: 1
  ) {
    totalCount
  }
  CANCELED: executions(
    workflowId: $workflowId
    status: CANCELED
    since: $since
    until: $until
    first: 1
  ) {
    totalCount
  }
  REJECTED: executions(
    workflowId: $workflowId
    status: REJECTED
    since: $since
    until: $until
    first: 1
  ) {
    totalCount
  }
}
    `) as unknown as TypedDocumentString<StatusCountsQuery, StatusCountsQueryVariables>;
export const ExecutionDocument = new TypedDocumentString(`
    query Execution($id: ID!) {
  execution(id: $id) {
    ...ExecutionRow
    response
    reason
    eventKey
    attempts
    retries
    nextRetryAt
    deadLetter
    version
    context
    rawBody
    jobs {
      id
      nodeKey
      nodeType
      status
      result
      startedAt
      finishedAt
      attempts
    }
  }
}
    fragment ExecutionRow on Execution {
  id
  status
  createdAt
  startedAt
  finishedAt
  error
  replayOf
  workflow {
    id
    key
  }
}`) as unknown as TypedDocumentString<ExecutionQuery, ExecutionQueryVariables>;
export const ReplayExecutionDocument = new TypedDocumentString(`
    mutation ReplayExecution($id: ID!) {
  replayExecution(id: $id, again: true) {
    id
  }
}
    `) as unknown as TypedDocumentString<ReplayExecutionMutation, ReplayExecutionMutationVariables>;
export const CancelExecutionDocument = new TypedDocumentString(`
    mutation CancelExecution($id: ID!) {
  cancelExecution(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<CancelExecutionMutation, CancelExecutionMutationVariables>;
export const ExecutionsChangedDocument = new TypedDocumentString(`
    subscription ExecutionsChanged($workflowId: ID) {
  executionsChanged(workflowId: $workflowId) {
    ...ExecutionRow
  }
}
    fragment ExecutionRow on Execution {
  id
  status
  createdAt
  startedAt
  finishedAt
  error
  replayOf
  workflow {
    id
    key
  }
}`) as unknown as TypedDocumentString<ExecutionsChangedSubscription, ExecutionsChangedSubscriptionVariables>;
export const NodeTypesDocument = new TypedDocumentString(`
    query NodeTypes {
  nodeTypes {
    name
    title
    description
    branching
    syncOnly
    asyncOnly
  }
}
    `) as unknown as TypedDocumentString<NodeTypesQuery, NodeTypesQueryVariables>;
export const OpenCaptureDocument = new TypedDocumentString(`
    mutation OpenCapture($workflowKey: String!, $maxCalls: Int, $seconds: Int) {
  openCapture(workflowKey: $workflowKey, maxCalls: $maxCalls, seconds: $seconds) {
    id
    open
    maxCalls
    callsCount
    expiresAt
  }
}
    `) as unknown as TypedDocumentString<OpenCaptureMutation, OpenCaptureMutationVariables>;
export const CloseCaptureDocument = new TypedDocumentString(`
    mutation CloseCapture($id: ID!) {
  closeCapture(id: $id) {
    id
    open
  }
}
    `) as unknown as TypedDocumentString<CloseCaptureMutation, CloseCaptureMutationVariables>;
export const CaptureCallsDocument = new TypedDocumentString(`
    query CaptureCalls($id: ID!, $after: ID) {
  capture(id: $id) {
    id
    open
    callsCount
    maxCalls
    expiresAt
    calls(after: $after) {
      ...CapturedCallFields
    }
  }
}
    fragment CapturedCallFields on CapturedCall {
  id
  receivedAt
  method
  path
  headers
  query
  body
  size
  truncated
  answerStatus
}`) as unknown as TypedDocumentString<CaptureCallsQuery, CaptureCallsQueryVariables>;
export const ParseCapturedCallDocument = new TypedDocumentString(`
    query ParseCapturedCall($source: ParseSource!, $capturedCallId: ID!) {
  parseExample(source: $source, capturedCallId: $capturedCallId) {
    path
    type
    example
    ruleType
  }
}
    `) as unknown as TypedDocumentString<ParseCapturedCallQuery, ParseCapturedCallQueryVariables>;
export const TestRunWorkflowDocument = new TypedDocumentString(`
    mutation TestRunWorkflow($workflowKey: String!, $request: TestRequestInput, $capturedCallId: ID, $sideEffects: Boolean! = false, $skipAuthentication: Boolean! = false) {
  testRunWorkflow(
    workflowKey: $workflowKey
    request: $request
    capturedCallId: $capturedCallId
    sideEffects: $sideEffects
    skipAuthentication: $skipAuthentication
  ) {
    workflow
    version
    origin
    authentication
    status
    rejected
    error
    reason
    testCase
    answer {
      status
      headers
      body
    }
    nodes {
      key
      type
      upstream
      status
      result
      error
      durationMs
      branch
      rendered
      note
      request
    }
  }
}
    `) as unknown as TypedDocumentString<TestRunWorkflowMutation, TestRunWorkflowMutationVariables>;
export const CapturedCallsDocument = new TypedDocumentString(`
    subscription CapturedCalls($captureId: ID!, $after: ID) {
  capturedCalls(captureId: $captureId, after: $after) {
    ...CapturedCallFields
  }
}
    fragment CapturedCallFields on CapturedCall {
  id
  receivedAt
  method
  path
  headers
  query
  body
  size
  truncated
  answerStatus
}`) as unknown as TypedDocumentString<CapturedCallsSubscription, CapturedCallsSubscriptionVariables>;
export const ApiTokensDocument = new TypedDocumentString(`
    query ApiTokens {
  apiTokens {
    id
    name
    createdAt
    lastUsedAt
  }
}
    `) as unknown as TypedDocumentString<ApiTokensQuery, ApiTokensQueryVariables>;
export const CreateApiTokenDocument = new TypedDocumentString(`
    mutation CreateApiToken($name: String!) {
  createApiToken(name: $name) {
    token
    apiToken {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<CreateApiTokenMutation, CreateApiTokenMutationVariables>;
export const RevokeApiTokenDocument = new TypedDocumentString(`
    mutation RevokeApiToken($id: ID!) {
  revokeApiToken(id: $id)
}
    `) as unknown as TypedDocumentString<RevokeApiTokenMutation, RevokeApiTokenMutationVariables>;
export const WorkflowDocument = new TypedDocumentString(`
    query Workflow($id: ID!) {
  workflow(id: $id) {
    ...WorkflowFields
  }
}
    fragment RuleFields on ParseRule {
  id
  source
  key
  alias
  var
  required
  type
}
fragment TriggerFields on Trigger {
  id
  key
  url
  options
  basicAuthentication {
    enabled
    username
  }
  response {
    statusCode
    headers {
      name
      value
    }
    body
  }
  parseRules {
    ...RuleFields
  }
}
fragment NodeFields on Node {
  id
  key
  type
  title
  config
  upstream
  branchIndex
}
fragment WorkflowFields on Workflow {
  id
  key
  title
  description
  enabled
  sync
  version
  options
  updatedAt
  trigger {
    ...TriggerFields
  }
  nodes {
    ...NodeFields
  }
}`) as unknown as TypedDocumentString<WorkflowQuery, WorkflowQueryVariables>;
export const WorkflowDocumentDocument = new TypedDocumentString(`
    query WorkflowDocument($id: ID!) {
  workflow(id: $id) {
    id
    key
    version
    document
  }
}
    `) as unknown as TypedDocumentString<WorkflowDocumentQuery, WorkflowDocumentQueryVariables>;
export const UpdateTriggerDocument = new TypedDocumentString(`
    mutation UpdateTrigger($workflowId: ID!, $input: TriggerInput!) {
  updateTrigger(workflowId: $workflowId, input: $input) {
    ...TriggerFields
    workflow {
      id
      version
    }
  }
}
    fragment RuleFields on ParseRule {
  id
  source
  key
  alias
  var
  required
  type
}
fragment TriggerFields on Trigger {
  id
  key
  url
  options
  basicAuthentication {
    enabled
    username
  }
  response {
    statusCode
    headers {
      name
      value
    }
    body
  }
  parseRules {
    ...RuleFields
  }
}`) as unknown as TypedDocumentString<UpdateTriggerMutation, UpdateTriggerMutationVariables>;
export const RegenerateTriggerKeyDocument = new TypedDocumentString(`
    mutation RegenerateTriggerKey($workflowId: ID!) {
  regenerateTriggerKey(workflowId: $workflowId) {
    ...TriggerFields
  }
}
    fragment RuleFields on ParseRule {
  id
  source
  key
  alias
  var
  required
  type
}
fragment TriggerFields on Trigger {
  id
  key
  url
  options
  basicAuthentication {
    enabled
    username
  }
  response {
    statusCode
    headers {
      name
      value
    }
    body
  }
  parseRules {
    ...RuleFields
  }
}`) as unknown as TypedDocumentString<RegenerateTriggerKeyMutation, RegenerateTriggerKeyMutationVariables>;
export const ParseExampleDocument = new TypedDocumentString(`
    mutation ParseExample($source: ParseSource!, $example: String!) {
  parseExample(source: $source, example: $example) {
    path
    type
    example
    ruleType
  }
}
    `) as unknown as TypedDocumentString<ParseExampleMutation, ParseExampleMutationVariables>;
export const UpdateParseRuleDocument = new TypedDocumentString(`
    mutation UpdateParseRule($id: ID!, $input: UpdateParseRuleInput!) {
  updateParseRule(id: $id, input: $input) {
    ...RuleFields
  }
}
    fragment RuleFields on ParseRule {
  id
  source
  key
  alias
  var
  required
  type
}`) as unknown as TypedDocumentString<UpdateParseRuleMutation, UpdateParseRuleMutationVariables>;
export const DeleteParseRuleDocument = new TypedDocumentString(`
    mutation DeleteParseRule($id: ID!) {
  deleteParseRule(id: $id) {
    id
  }
}
    `) as unknown as TypedDocumentString<DeleteParseRuleMutation, DeleteParseRuleMutationVariables>;
export const CreateNodeDocument = new TypedDocumentString(`
    mutation CreateNode($workflowId: ID!, $input: NodeInput!, $position: Int) {
  createNode(workflowId: $workflowId, input: $input, position: $position) {
    ...NodeFields
  }
}
    fragment NodeFields on Node {
  id
  key
  type
  title
  config
  upstream
  branchIndex
}`) as unknown as TypedDocumentString<CreateNodeMutation, CreateNodeMutationVariables>;
export const UpdateNodeDocument = new TypedDocumentString(`
    mutation UpdateNode($id: ID!, $input: UpdateNodeInput!, $position: Int) {
  updateNode(id: $id, input: $input, position: $position) {
    ...NodeFields
  }
}
    fragment NodeFields on Node {
  id
  key
  type
  title
  config
  upstream
  branchIndex
}`) as unknown as TypedDocumentString<UpdateNodeMutation, UpdateNodeMutationVariables>;
export const DeleteNodeDocument = new TypedDocumentString(`
    mutation DeleteNode($id: ID!) {
  deleteNode(id: $id) {
    id
    version
  }
}
    `) as unknown as TypedDocumentString<DeleteNodeMutation, DeleteNodeMutationVariables>;
export const ApplyWorkflowsDocument = new TypedDocumentString(`
    mutation ApplyWorkflows($documents: [JSON!]!, $dryRun: Boolean!) {
  applyWorkflows(documents: $documents, dryRun: $dryRun) {
    action
    key
    version
    previousVersion
    changed
    url
  }
}
    `) as unknown as TypedDocumentString<ApplyWorkflowsMutation, ApplyWorkflowsMutationVariables>;
export const WorkflowsDocument = new TypedDocumentString(`
    query Workflows($enabled: Boolean, $first: Int!, $after: String) {
  workflows(enabled: $enabled, first: $first, after: $after) {
    totalCount
    edges {
      cursor
      node {
        ...WorkflowRow
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment WorkflowRow on Workflow {
  id
  key
  title
  enabled
  sync
  version
  updatedAt
}`) as unknown as TypedDocumentString<WorkflowsQuery, WorkflowsQueryVariables>;
export const WorkflowsSearchDocument = new TypedDocumentString(`
    query WorkflowsSearch($enabled: Boolean, $sync: Boolean, $search: String, $first: Int!, $after: String) {
  workflows(
    enabled: $enabled
    sync: $sync
    search: $search
    first: $first
    after: $after
  ) {
    totalCount
    edges {
      node {
        ...WorkflowRow
        lastExecution {
          id
          status
          createdAt
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment WorkflowRow on Workflow {
  id
  key
  title
  enabled
  sync
  version
  updatedAt
}`) as unknown as TypedDocumentString<WorkflowsSearchQuery, WorkflowsSearchQueryVariables>;
export const LastExecutionDocument = new TypedDocumentString(`
    query LastExecution($workflowId: ID!) {
  executions(workflowId: $workflowId, first: 1) {
    edges {
      node {
        id
        status
        createdAt
      }
    }
  }
}
    `) as unknown as TypedDocumentString<LastExecutionQuery, LastExecutionQueryVariables>;
export const WorkflowByKeyDocument = new TypedDocumentString(`
    query WorkflowByKey($key: String!) {
  workflow(key: $key) {
    ...WorkflowRow
  }
}
    fragment WorkflowRow on Workflow {
  id
  key
  title
  enabled
  sync
  version
  updatedAt
}`) as unknown as TypedDocumentString<WorkflowByKeyQuery, WorkflowByKeyQueryVariables>;
export const CreateWorkflowDocument = new TypedDocumentString(`
    mutation CreateWorkflow($input: WorkflowInput!) {
  createWorkflow(input: $input) {
    id
    key
  }
}
    `) as unknown as TypedDocumentString<CreateWorkflowMutation, CreateWorkflowMutationVariables>;
export const SetEnabledDocument = new TypedDocumentString(`
    mutation SetEnabled($id: ID!, $enabled: Boolean!) {
  updateWorkflow(id: $id, input: {enabled: $enabled}) {
    ...WorkflowRow
  }
}
    fragment WorkflowRow on Workflow {
  id
  key
  title
  enabled
  sync
  version
  updatedAt
}`) as unknown as TypedDocumentString<SetEnabledMutation, SetEnabledMutationVariables>;
export const UpdateWorkflowFieldsDocument = new TypedDocumentString(`
    mutation UpdateWorkflowFields($id: ID!, $input: UpdateWorkflowInput!) {
  updateWorkflow(id: $id, input: $input) {
    ...WorkflowRow
  }
}
    fragment WorkflowRow on Workflow {
  id
  key
  title
  enabled
  sync
  version
  updatedAt
}`) as unknown as TypedDocumentString<UpdateWorkflowFieldsMutation, UpdateWorkflowFieldsMutationVariables>;
export const DeleteWorkflowDocument = new TypedDocumentString(`
    mutation DeleteWorkflow($id: ID!) {
  deleteWorkflow(id: $id)
}
    `) as unknown as TypedDocumentString<DeleteWorkflowMutation, DeleteWorkflowMutationVariables>;