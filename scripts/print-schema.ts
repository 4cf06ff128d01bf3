import { writeFileSync } from 'node:fs';
import { isAbstractType, printSchema } from 'graphql';
import { schema } from '../src/schema/index.ts';

const target = new URL('../schema.graphql', import.meta.url);
writeFileSync(target, `${printSchema(schema)}\n`);
console.log(`Wrote ${target.pathname}`);

/**
 * Apollo Client's `possibleTypes`: without it, a fragment on an interface or union (`... on Node`,
 * `... on MutationError`) silently matches nothing in the cache. Every abstract type with the
 * object types it may be, sorted so the file diffs cleanly.
 */
const possibleTypes = Object.fromEntries(
  Object.values(schema.getTypeMap())
    .filter(isAbstractType)
    .filter((type) => !type.name.startsWith('__'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((type) => [
      type.name,
      schema
        .getPossibleTypes(type)
        .map((member) => member.name)
        .sort(),
    ]),
);
const possibleTypesTarget = new URL('../possible-types.json', import.meta.url);
writeFileSync(possibleTypesTarget, `${JSON.stringify(possibleTypes, null, 2)}\n`);
console.log(`Wrote ${possibleTypesTarget.pathname}`);
