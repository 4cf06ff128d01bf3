import type OpenAI from 'openai';
import { OPENAI_LIMITS } from '../upstream/index.ts';
import { builder } from './builder.ts';
import { InvalidInputError } from './errors.ts';

const CHUNKS = OPENAI_LIMITS.chunking;

export type ChunkingParam = OpenAI.VectorStores.FileChunkingStrategyParam;

const StaticChunkingInput = builder.inputType('StaticChunkingInput', {
  description: 'Chunks of a fixed size, overlapping by a fixed amount.',
  fields: (t) => ({
    maxChunkSizeTokens: t.int({
      required: true,
      description: `Tokens in each chunk (${CHUNKS.size.min}..${CHUNKS.size.max}; OpenAI's default is ${CHUNKS.auto.size}).`,
    }),
    chunkOverlapTokens: t.int({
      required: true,
      description: `Tokens two neighbouring chunks share (0 to half the chunk size; OpenAI's default is ${CHUNKS.auto.overlap}).`,
    }),
  }),
});

export const ChunkingStrategyInput = builder.inputType('ChunkingStrategyInput', {
  description: 'How OpenAI cuts a file into chunks for search: exactly one of `auto` or `static`.',
  isOneOf: true,
  fields: (t) => ({
    auto: t.boolean({
      description: `OpenAI's default (chunks of ${CHUNKS.auto.size} tokens overlapping by ${CHUNKS.auto.overlap}); only \`true\`.`,
    }),
    static: t.field({ type: StaticChunkingInput, description: 'Chunks of the given size and overlap.' }),
  }),
});

export interface ChunkingInputShape {
  auto?: boolean | null | undefined;
  static?: { maxChunkSizeTokens: number; chunkOverlapTokens: number } | null | undefined;
}

/** The strategy as OpenAI takes it, or an InvalidInputError naming the offending field. */
export function chunkingParam(input: ChunkingInputShape, field: string): ChunkingParam {
  if (input.auto != null) {
    if (input.auto !== true)
      throw new InvalidInputError(`${field}.auto`, `\`${field}.auto\` can only be true.`);
    return { type: 'auto' };
  }
  const size = input.static?.maxChunkSizeTokens ?? 0;
  const overlap = input.static?.chunkOverlapTokens ?? 0;
  if (size < CHUNKS.size.min || size > CHUNKS.size.max) {
    throw new InvalidInputError(
      `${field}.static.maxChunkSizeTokens`,
      `\`${field}.static.maxChunkSizeTokens\` must be between ${CHUNKS.size.min} and ${CHUNKS.size.max}, got ${size}.`,
    );
  }
  if (overlap < 0 || overlap > size / 2) {
    throw new InvalidInputError(
      `${field}.static.chunkOverlapTokens`,
      `\`${field}.static.chunkOverlapTokens\` must be between 0 and half the chunk size (${Math.floor(size / 2)}), got ${overlap}.`,
    );
  }
  return { type: 'static', static: { max_chunk_size_tokens: size, chunk_overlap_tokens: overlap } };
}

const ChunkingStrategyType = builder.enumType('ChunkingStrategyType', {
  description: 'How a file was chunked.',
  values: {
    STATIC: {
      value: 'static',
      description: 'In chunks of a fixed size and overlap (`auto` reads back as this).',
    },
    OTHER: {
      value: 'other',
      description: 'Unknown: the file was indexed before chunking strategies existed.',
    },
  } as const,
});

export const ChunkingStrategy = builder
  .objectRef<OpenAI.VectorStores.FileChunkingStrategy>('ChunkingStrategy')
  .implement({
    description: 'How a file of a vector store was cut into chunks.',
    fields: (t) => ({
      type: t.field({
        type: ChunkingStrategyType,
        description: 'Its kind.',
        resolve: (strategy) => strategy.type,
      }),
      maxChunkSizeTokens: t.int({
        nullable: true,
        description: 'Tokens in each chunk; null for OTHER.',
        resolve: (strategy) => (strategy.type === 'static' ? strategy.static.max_chunk_size_tokens : null),
      }),
      chunkOverlapTokens: t.int({
        nullable: true,
        description: 'Tokens two neighbouring chunks share; null for OTHER.',
        resolve: (strategy) => (strategy.type === 'static' ? strategy.static.chunk_overlap_tokens : null),
      }),
    }),
  });
