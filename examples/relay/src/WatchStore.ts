import { graphql } from 'relay-runtime';

/** A store as its files are processed; the gateway ends the stream once none is in progress. */
export const WatchStoreSubscription = graphql`
  subscription WatchStoreSubscription($id: ID!) {
    vectorStore(id: $id, deadlineSeconds: 60) {
      id
      status
      fileCounts {
        inProgress
        completed
        total
      }
    }
  }
`;
