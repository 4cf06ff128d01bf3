import { graphql } from 'relay-runtime';

/**
 * The stores, a page at a time. `@connection` keeps every page fetched with `after` in one list in
 * Relay's store, under a key that leaves `first` and `after` out.
 */
export const StoreListQuery = graphql`
  query StoreListQuery($first: Int!, $after: String) {
    vectorStores(first: $first, after: $after) @connection(key: "StoreList_vectorStores") {
      edges {
        node {
          id
          ...StoreRow_store
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;
