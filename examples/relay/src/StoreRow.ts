import { graphql } from 'relay-runtime';

/**
 * What a row of the store list shows. The documents in these files are read by relay-compiler only:
 * without Babel's relay plugin, `graphql` tags cannot run, so the code imports the artifacts the
 * compiler writes to __generated__ instead.
 */
export const StoreRowFragment = graphql`
  fragment StoreRow_store on VectorStore {
    id
    name
    status
    fileCounts {
      total
      completed
    }
  }
`;
