/**
 * The read-side issue's dashboard: 20 stores with their counts and 10 files each with their
 * details. With the loaders it costs 22 upstream calls (one list of stores, one page of files per
 * store, one list of Files); naively, 221.
 */
export const DASHBOARD = /* GraphQL */ `
  query Dashboard {
    vectorStores(first: 20) {
      edges {
        node {
          id
          name
          fileCounts { total completed }
          files(first: 10) {
            totalCount
            edges { node { id status file { filename bytes } } }
          }
        }
      }
    }
  }
`;
