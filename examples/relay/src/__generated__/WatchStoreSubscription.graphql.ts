/**
 * @generated SignedSource<<93541f4b16e0a047d20db5b7c9f6bc19>>
 * @relayHash f049c3996e5beb681e0a4b8306e8604b
 * @lightSyntaxTransform
 */

/* tslint:disable */
/* eslint-disable */
// @ts-nocheck

// @relayRequestID c488664969f2577257f7bce9869d756a73220d70bc0d0a323cac067fb74800fa

import type { ConcreteRequest } from 'relay-runtime';
export type VectorStoreStatus = "COMPLETED" | "EXPIRED" | "IN_PROGRESS" | "%future added value";
export type WatchStoreSubscription$variables = {
  id: string;
};
export type WatchStoreSubscription$data = {
  readonly vectorStore: {
    readonly fileCounts: {
      readonly completed: number;
      readonly inProgress: number;
      readonly total: number;
    };
    readonly id: string;
    readonly status: VectorStoreStatus;
  };
};
export type WatchStoreSubscription = {
  response: WatchStoreSubscription$data;
  variables: WatchStoreSubscription$variables;
};

const node: ConcreteRequest = (function(){
var v0 = [
  {
    "defaultValue": null,
    "kind": "LocalArgument",
    "name": "id"
  }
],
v1 = [
  {
    "alias": null,
    "args": [
      {
        "kind": "Literal",
        "name": "deadlineSeconds",
        "value": 60
      },
      {
        "kind": "Variable",
        "name": "id",
        "variableName": "id"
      }
    ],
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
        "name": "status",
        "storageKey": null
      },
      {
        "alias": null,
        "args": null,
        "concreteType": "FileCounts",
        "kind": "LinkedField",
        "name": "fileCounts",
        "plural": false,
        "selections": [
          {
            "alias": null,
            "args": null,
            "kind": "ScalarField",
            "name": "inProgress",
            "storageKey": null
          },
          {
            "alias": null,
            "args": null,
            "kind": "ScalarField",
            "name": "completed",
            "storageKey": null
          },
          {
            "alias": null,
            "args": null,
            "kind": "ScalarField",
            "name": "total",
            "storageKey": null
          }
        ],
        "storageKey": null
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
    "name": "WatchStoreSubscription",
    "selections": (v1/*:: as any*/),
    "type": "Subscription",
    "abstractKey": null
  },
  "kind": "Request",
  "operation": {
    "argumentDefinitions": (v0/*:: as any*/),
    "kind": "Operation",
    "name": "WatchStoreSubscription",
    "selections": (v1/*:: as any*/)
  },
  "params": {
    "cacheID": "f049c3996e5beb681e0a4b8306e8604b",
    "id": "c488664969f2577257f7bce9869d756a73220d70bc0d0a323cac067fb74800fa",
    "metadata": {},
    "name": "WatchStoreSubscription",
    "operationKind": "subscription",
    "text": "subscription WatchStoreSubscription(\n  $id: ID!\n) {\n  vectorStore(id: $id, deadlineSeconds: 60) {\n    id\n    status\n    fileCounts {\n      inProgress\n      completed\n      total\n    }\n  }\n}\n"
  }
};
})();

(node as any).hash = "4eb4766b0aa06583c535457742c1f09d";

export default node;
