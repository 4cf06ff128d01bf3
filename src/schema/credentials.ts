import { builder } from './builder.ts';

interface CredentialShape {
  name: string;
  selected: boolean;
}

const Credential = builder.objectRef<CredentialShape>('Credential').implement({
  description: 'A named OpenAI credential of the gateway. Its key never leaves the server.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Pass it in the `x-openai-credential` header to use it.' }),
    selected: t.exposeBoolean('selected', { description: 'Whether this request uses it.' }),
  }),
});

builder.queryField('credentials', (t) =>
  t.field({
    type: [Credential],
    description: 'The credentials the caller may use, by name only.',
    resolve: (_root, _args, context) =>
      context.credential.available.map((name) => ({ name, selected: name === context.credential.name })),
  }),
);
