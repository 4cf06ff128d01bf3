/**
 * A graphql-ws `subscribe` message made into what yoga would execute for the same request over
 * HTTP: its persisted document resolved (trusted documents, APQ), parsed, validated and its
 * context built through yoga's envelop, or the errors that refuse it.
 */
import { type ExecutionArgs, GraphQLError, getOperationAST } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import type { App } from '../app.ts';

export type Enveloped = ReturnType<App['yoga']['getEnveloped']>;

export type PreparedOperation =
  | { args: ExecutionArgs; enveloped: Enveloped }
  | { errors: readonly GraphQLError[] };

export async function prepareOperation(
  app: Pick<App, 'yoga' | 'persisted'>,
  request: Request,
  payload: SubscribePayload,
): Promise<PreparedOperation> {
  // Persisted operations hold here as over HTTP: trusted documents only, or APQ's hashes.
  // graphql-ws requires a `query` string, so a client naming its operation by id sends ''.
  const resolved = app.persisted.resolve({
    ...(payload as unknown as Record<string, unknown>),
    query: payload.query === '' ? undefined : payload.query,
  });
  if ('refusal' in resolved) return { errors: [resolved.refusal] };
  const params = { ...paramsOf(payload), query: resolved.query };
  const enveloped = app.yoga.getEnveloped({ request, params } as never);
  try {
    const document = enveloped.parse(params.query);
    const errors = enveloped.validate(enveloped.schema, document);
    if (errors.length > 0) return { errors };
    if (!getOperationAST(document, params.operationName)) {
      return {
        errors: [
          new GraphQLError('The document has no operation of that name, or several and no name was given.', {
            extensions: { code: 'BAD_REQUEST' },
          }),
        ],
      };
    }
    const args: ExecutionArgs = {
      schema: enveloped.schema,
      document,
      operationName: params.operationName,
      variableValues: params.variables,
      contextValue: await enveloped.contextFactory(),
    };
    return { args, enveloped };
  } catch (error) {
    return { errors: [asGraphQLError(error)] };
  }
}

/** The GraphQL parameters of a subscribe message, as yoga's context and plugins see HTTP's. */
function paramsOf(payload: SubscribePayload) {
  return {
    query: payload.query,
    operationName: payload.operationName ?? undefined,
    variables: payload.variables ?? undefined,
    extensions: payload.extensions ?? undefined,
  };
}

/** What the client saw; the original is not echoed (yoga masks such errors alike over HTTP). */
function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
