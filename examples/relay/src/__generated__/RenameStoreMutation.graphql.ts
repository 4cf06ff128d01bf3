/**
 * @generated SignedSource<<40bac960806630d4433fe2464ee8e763>>
 * @relayHash fe8d5a21dbb6fa315c5ed5bfaf82e523
 * @lightSyntaxTransform
 */

/* tslint:disable */
/* eslint-disable */
// @ts-nocheck

// @relayRequestID 55420b4c3a314357e9c764b23e4d97461f9c3ba9233f241313a1edce21b947a8

import type { ConcreteRequest } from 'relay-runtime';
export type RenameStoreMutation$variables = {
  id: string;
  name: string;
};
export type RenameStoreMutation$data = {
  readonly updateVectorStore: {
    readonly __typename: string;
    readonly message?: string;
    readonly vectorStore?: {
      readonly id: string;
      readonly name: string | null | undefined;
    } | null | undefined;
  };
};
export type RenameStoreMutation = {
  response: RenameStoreMutation$data;
  variables: RenameStoreMutation$variables;
};

const node: ConcreteRequest = (function(){
var v0 = [
  {
    "defaultValue": null,
    "kind": "LocalArgument",
    "name": "id"
  },
  {
    "defaultValue": null,
    "kind": "LocalArgument",
    "name": "name"
  }
],
v1 = [
  {
    "alias": null,
    "args": [
      {
        "fields": [
          {
            "kind": "Variable",
            "name": "id",
            "variableName": "id"
          },
          {
            "kind": "Variable",
            "name": "name",
            "variableName": "name"
          }
        ],
        "kind": "ObjectValue",
        "name": "input"
      }
    ],
    "concreteType": null,
    "kind": "LinkedField",
    "name": "updateVectorStore",
    "plural": false,
    "selections": [
      {
        "alias": null,
        "args": null,
        "kind": "ScalarField",
        "name": "__typename",
        "storageKey": null
      },
      {
        "kind": "InlineFragment",
        "selections": [
          {
            "alias": null,
            "args": null,
            "concreteType": "VectorStore",
            "kind": "LinkedField",
            "name": "vectorStore",
            "plural": false,
            "selections": [
              {
                "alias": null,
                "args": null,
                "kind": "ScalarField",
                "name": "id",
                "storageKey": null
              },
              {
                "alias": null,
                "args": null,
                "kind": "ScalarField",
                "name": "name",
                "storageKey": null
              }
            ],
            "storageKey": null
          }
        ],
        "type": "UpdateVectorStorePayload",
        "abstractKey": null
      },
      {
        "kind": "InlineFragment",
        "selections": [
          {
            "alias": null,
            "args": null,
            "kind": "ScalarField",
            "name": "message",
            "storageKey": null
          }
        ],
        "type": "MutationError",
        "abstractKey": "__isMutationError"
      }
    ],
    "storageKey": null
  }
];
return {
  "fragment": {
    "argumentDefinitions": (v0/*:: as any*/),
    "kind": "Fragment",
    "metadata": null,
    "name": "RenameStoreMutation",
    "selections": (v1/*:: as any*/),
    "type": "Mutation",
    "abstractKey": null
  },
  "kind": "Request",
  "operation": {
    "argumentDefinitions": (v0/*:: as any*/),
    "kind": "Operation",
    "name": "RenameStoreMutation",
    "selections": (v1/*:: as any*/)
  },
  "params": {
    "cacheID": "fe8d5a21dbb6fa315c5ed5bfaf82e523",
    "id": "55420b4c3a314357e9c764b23e4d97461f9c3ba9233f241313a1edce21b947a8",
    "metadata": {},
    "name": "RenameStoreMutation",
    "operationKind": "mutation",
    "text": "mutation RenameStoreMutation(\n  $id: ID!\n  $name: String!\n) {\n  updateVectorStore(input: {id: $id, name: $name}) {\n    __typename\n    ... on UpdateVectorStorePayload {\n      vectorStore {\n        id\n        name\n      }\n    }\n    ... on MutationError {\n      __isMutationError: __typename\n      message\n    }\n  }\n}\n"
  }
};
})();

(node as any).hash = "ec4235328007d2af7d6a56c13103e914";

export default node;
