import { fileContentPath } from '../../http/routes.ts';
import type { FileObject } from '../../upstream/index.ts';
import { builder, fromOptionalUnixSeconds, fromUnixSeconds, objectKind } from '../builder.ts';

export const FileRef = builder.objectRef<FileObject>('File');

builder.node(FileRef, {
  description: 'A file uploaded to OpenAI (the Files API). It can be attached to several vector stores.',
  id: { resolve: (file) => file.id },
  isTypeOf: (value) => objectKind(value) === 'file',
  loadManyWithoutCache: (ids, context) => ids.map((id) => context.loaders.file.load(id)),
  fields: (t) => ({
    openaiId: t.exposeString('id', { description: 'The OpenAI file id (file-...).' }),
    filename: t.exposeString('filename', { description: 'The name the file was uploaded with.' }),
    bytes: t.field({
      type: 'SafeInt',
      description: 'Size in bytes; 0 while OpenAI has not measured it yet.',
      resolve: (file) => file.bytes ?? 0,
    }),
    purpose: t.exposeString('purpose', {
      description: 'What the file is for, e.g. `assistants` or `user_data`.',
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When it was uploaded.',
      resolve: (file) => fromUnixSeconds(file.created_at),
    }),
    contentUrl: t.string({
      description:
        "Where this gateway streams the file's bytes (`GET`, with the same `Authorization` and credential headers as `/graphql`); OpenAI may refuse the content of some purposes.",
      resolve: (file, _args, context) => `${context.publicUrl}${fileContentPath(file.id)}`,
    }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When OpenAI deletes it; null when it does not expire.',
      resolve: (file) => fromOptionalUnixSeconds(file.expires_at),
    }),
  }),
});
