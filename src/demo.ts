import type OpenAI from 'openai';
import { toFile } from 'openai';

const DEMO_STORES = [
  {
    name: 'Product handbook',
    description: 'How the product works, for the support team.',
    files: {
      'getting-started.md':
        '# Getting started\n\nCreate a vector store, upload documents, then search them with file_search.',
      'billing.txt': 'Vector storage is billed per GB per day; the first GB is free.',
      'limits.md':
        '# Limits\n\nFiles up to 512 MB. Up to 2,000 files per batch. Search returns at most 50 results.',
    },
  },
  {
    name: 'Engineering notes',
    description: 'Design notes of the gateway.',
    files: {
      'pagination.md':
        'Cursors are object ids. Backward pages use `before`; ties within a second keep their order.',
      'uploads.txt': 'Uploads stream through the gateway to OpenAI without being buffered in memory.',
    },
  },
] as const;

/** Fills a fresh emulator so that GraphiQL's default query has something to show. */
export async function seedDemo(client: OpenAI): Promise<void> {
  for (const store of DEMO_STORES) {
    const fileIds: string[] = [];
    for (const [name, text] of Object.entries(store.files)) {
      const file = await client.files.create({
        file: await toFile(Buffer.from(text), name),
        purpose: 'assistants',
      });
      fileIds.push(file.id);
    }
    await client.vectorStores.create({
      name: store.name,
      description: store.description,
      file_ids: fileIds,
      metadata: { demo: 'true' },
    } as OpenAI.VectorStores.VectorStoreCreateParams);
  }
}

export const DEFAULT_QUERY = /* GraphQL */ `# The vector stores of the selected credential, with their newest files.
# Press the play button (or Ctrl-Enter) to run it.
query Dashboard {
  vectorStores(first: 10) {
    nodes {
      id
      name
      status
      fileCounts { total completed inProgress failed }
      files(first: 5) {
        totalCount
        nodes {
          status
          file { filename bytes }
        }
      }
      search(query: "limits", maxResults: 2) {
        filename
        score
        content
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;
