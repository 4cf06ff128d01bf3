/**
 * `orphanedFiles`: the Files attached to no vector store, which cost storage until deleted and
 * which OpenAI has no call to find. A scan (orphan-scan.ts) paged like a connection: each page
 * spends at most `ORPHAN_SCAN_CALLS`, and one that ran out of them before finding `first` orphans
 * returns those it found (maybe none) with `hasNextPage` and a cursor to go on.
 */
import { GraphQLError } from 'graphql';
import type { FileObject } from '../../upstream/index.ts';
import { builder, fromUnixSeconds } from '../builder.ts';
import { PAGE_SIZE } from '../connections.ts';
import { costs, type Price, price } from '../cost.ts';
import {
  cursorAt,
  cursorSigner,
  ORPHAN_ARGUMENT_DESCRIPTIONS,
  ORPHAN_MIN_AGE,
  ORPHAN_PURPOSE,
  ScanArgumentError,
  scanCursor,
  scanPageSize,
} from './orphan-args.ts';
import type { OrphanCursor } from './orphan-cursor.ts';
import { CallAllowance, ORPHAN_SCAN_CALLS, type ScanProgress, scanPage, withScan } from './orphan-scan.ts';
import { FileRef } from './types.ts';

export const OrphanScan = builder.objectRef<ScanProgress>('OrphanScan').implement({
  description:
    'How far an orphan scan got. The file list of every store is read before any file can be called an orphan, then the files, oldest first.',
  fields: (t) => ({
    storesTotal: t.int({
      nullable: true,
      description: 'The vector stores of the project; null while they are still being listed.',
      resolve: (scan) => scan.storesTotal,
    }),
    storesScanned: t.exposeInt('storesScanned', { description: 'The stores whose files were read.' }),
    attachedFiles: t.exposeInt('attachedFiles', {
      description: 'Distinct files found attached to a store so far (whatever their status).',
    }),
    complete: t.exposeBoolean('complete', {
      description: 'Whether every file up to `cutoff` was examined: no orphan follows.',
    }),
    cutoff: t.field({
      type: 'DateTime',
      description:
        'Files uploaded after this instant (the start of the scan less `olderThanSeconds`) are left out.',
      resolve: (scan) => fromUnixSeconds(scan.cutoff),
    }),
  }),
});

interface OrphanedFileConnectionShape {
  edges: Array<{ cursor: string; node: FileObject }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string };
  scan: ScanProgress;
}

// Written out rather than with `connectionObject`, whose edge cursors are described as object ids.
const OrphanedFileEdge = builder
  .objectRef<OrphanedFileConnectionShape['edges'][number]>('OrphanedFileEdge')
  .implement({
    description: 'A file attached to no vector store, with its cursor.',
    fields: (t) => ({
      cursor: t.exposeString('cursor', {
        description: 'Where the scan stands once past this file: pass it as `after` to go on from here.',
      }),
      node: t.field({ type: FileRef, description: 'The file.', resolve: (edge) => edge.node }),
    }),
  });

export const OrphanedFileConnection = builder
  .objectRef<OrphanedFileConnectionShape>('OrphanedFileConnection')
  .implement({
    description:
      'A page of files attached to no vector store, Relay-style. `pageInfo.endCursor` is where the scan stands, set even on an empty page; it may lie past the last edge when files after it were examined and found attached.',
    fields: (t) => ({
      edges: t.field({
        type: [OrphanedFileEdge],
        description: 'The orphans of this page, oldest first.',
        resolve: (connection) => connection.edges,
      }),
      nodes: t.field({
        type: [FileRef],
        description: 'The nodes of the edges, for clients that need no cursors.',
        resolve: (connection) => connection.edges.map((edge) => edge.node),
      }),
      pageInfo: t.field({
        type: builder.pageInfoRef(),
        description: 'Whether the scan goes on (`hasNextPage`), and from where (`endCursor`).',
        resolve: (connection) => connection.pageInfo,
      }),
      scan: t.field({ type: OrphanScan, description: 'How far the scan got.', resolve: (c) => c.scan }),
    }),
  });

/** A fixed scan allowance per resolution, whatever the page size; the files it lists cost nothing more. */
const orphanScanPrice: Price = (args, scope) => ({
  ...price.connection(args, scope),
  calls: scope.objects * ORPHAN_SCAN_CALLS,
});

function badArgument(error: unknown): unknown {
  return error instanceof ScanArgumentError
    ? new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', argument: error.argument } })
    : error;
}

builder.queryFields((t) => ({
  orphanedFiles: t.field({
    ...costs(orphanScanPrice),
    type: OrphanedFileConnection,
    nullable: true,
    description: `Files attached to no vector store, oldest first: storage that is paid for and used by no store. Each page makes at most ${ORPHAN_SCAN_CALLS} upstream calls; a page that ran out of them returns the orphans found so far (maybe none) with \`hasNextPage\`. A file attached after its store was read can still be listed: \`deleteOrphanedFiles\` checks again before it deletes.`,
    args: {
      first: t.arg.int({
        description: `Orphans per page (1..${PAGE_SIZE.max}, default ${PAGE_SIZE.default}).`,
      }),
      after: t.arg.string({ description: ORPHAN_ARGUMENT_DESCRIPTIONS.after }),
      purpose: t.arg.string({
        defaultValue: ORPHAN_PURPOSE,
        description: ORPHAN_ARGUMENT_DESCRIPTIONS.purpose,
      }),
      olderThanSeconds: t.arg.int({
        defaultValue: ORPHAN_MIN_AGE.default,
        description: ORPHAN_ARGUMENT_DESCRIPTIONS.olderThanSeconds,
      }),
    },
    resolve: async (_root, args, context) => {
      let want: number;
      let cursor: OrphanCursor;
      const sign = cursorSigner(context);
      try {
        want = scanPageSize(args.first);
        cursor = scanCursor(args, sign);
      } catch (error) {
        throw badArgument(error);
      }
      const page = await withScan(context.upstream, cursor.scanId, (state) =>
        scanPage(context.upstream, state, cursor, want, new CallAllowance(ORPHAN_SCAN_CALLS)),
      );
      const edges = page.orphans.map((node: FileObject) => ({
        cursor: cursorAt(cursor, { id: node.id, createdAt: node.created_at }, sign),
        node,
      }));
      const connection: OrphanedFileConnectionShape = {
        edges,
        scan: page.progress,
        pageInfo: {
          hasNextPage: !page.progress.complete,
          hasPreviousPage: args.after != null,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: cursorAt(cursor, page.end, sign),
        },
      };
      return connection;
    },
  }),
}));
