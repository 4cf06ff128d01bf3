/**
 * @generated SignedSource<<d4d08649ebbece8a7c252949ae4c391c>>
 * @lightSyntaxTransform
 */

/* tslint:disable */
/* eslint-disable */
// @ts-nocheck

import type { ReaderFragment } from 'relay-runtime';
export type VectorStoreStatus = "COMPLETED" | "EXPIRED" | "IN_PROGRESS" | "%future added value";
import type { FragmentRefs } from "relay-runtime";
export type StoreRow_store$data = {
  readonly fileCounts: {
    readonly completed: number;
    readonly total: number;
  };
  readonly id: string;
  readonly name: string | null | undefined;
  readonly status: VectorStoreStatus;
  readonly " $fragmentType": "StoreRow_store";
};
export type StoreRow_store$key = {
  readonly " $data"?: StoreRow_store$data;
  readonly " $fragmentSpreads": FragmentRefs<"StoreRow_store">;
};

const node: ReaderFragment = {
  "argumentDefinitions": [],
  "kind": "Fragment",
  "metadata": null,
  "name": "StoreRow_store",
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
          "name": "total",
          "storageKey": null
        },
        {
          "alias": null,
          "args": null,
          "kind": "ScalarField",
          "name": "completed",
          "storageKey": null
        }
      ],
      "storageKey": null
    }
  ],
  "type": "VectorStore",
  "abstractKey": null
};

(node as any).hash = "9b3de19fd8b43c64c824e676c7abbfe7";

export default node;
