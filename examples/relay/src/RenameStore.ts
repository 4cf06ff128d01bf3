import { graphql } from 'relay-runtime';

/** The payload's store carries its id, so Relay updates the one record every list points to. */
export const RenameStoreMutation = graphql`
  mutation RenameStoreMutation($id: ID!, $name: String!) {
    updateVectorStore(input: { id: $id, name: $name }) {
      __typename
      ... on UpdateVectorStorePayload {
        vectorStore {
          id
          name
        }
      }
      ... on MutationError {
        message
      }
    }
  }
`;
