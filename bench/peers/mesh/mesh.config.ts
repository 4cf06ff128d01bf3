import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

// Path to the OpenAPI subset, relative to the directory mesh-compose runs in. The default is the
// repository's vendor/openai/openapi.vector-stores.json as seen from bench/peers/mesh; the bench
// (bench/mesh-peer.ts) composes from a copy elsewhere and always passes the absolute path.
const specPath = process.env.OPENAI_SPEC_PATH ?? '../../../vendor/openai/openapi.vector-stores.json';

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('OpenAI', {
        source: specPath,
        // Kept as a placeholder in the supergraph; the gateway interpolates it per request.
        endpoint: '{env.OPENAI_BASE_URL}',
        // No operationHeaders here on purpose: a header set by the transport cannot be
        // overridden by the client, so Authorization is added in gateway.config.ts.
      }),
    },
  ],
});
