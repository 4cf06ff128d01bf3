import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Yoga's request parsers leave three client mistakes without a clear answer: `variables` or
 * `extensions` that are not JSON in a GET or form-encoded request throw from JSON.parse and come
 * out as a masked 500 "Unexpected error."; a content type no parser takes gets an empty 415; and
 * invalid JSON bodies are answered with the parser's own error under `extensions.originalError`
 * (no original error may reach a response).
 * Each becomes a 4xx whose message says what to fix.
 */
export function useRequestErrors(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser) {
        // Other methods are refused with a 405 by yoga itself, after this hook.
        if (request.method !== 'POST') return;
        const type = request.headers.get('content-type') ?? 'none';
        setRequestParser(() => {
          throw new GraphQLError(
            `Unsupported content type '${type.slice(0, 100)}': send application/json, or multipart/form-data for uploads.`,
            { extensions: { code: 'UNSUPPORTED_MEDIA_TYPE', http: { status: 415 } } },
          );
        });
        return;
      }
      setRequestParser(async (incoming) => {
        try {
          return await requestParser(incoming);
        } catch (error) {
          if (error instanceof SyntaxError) {
            throw new GraphQLError('The `variables` or `extensions` parameter is not valid JSON.', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          // No internal error reaches a response, even the JSON parser's. Yoga chose a 400 because
          // of it, and would answer 200 without it: the status is kept.
          if (error instanceof GraphQLError && error.extensions.originalError !== undefined) {
            const { originalError: _hidden, http: _http, ...extensions } = error.extensions;
            throw new GraphQLError(error.message, { extensions: { ...extensions, http: { status: 400 } } });
          }
          throw error;
        }
      });
    },
  };
}
