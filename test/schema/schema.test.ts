import { readFileSync } from 'node:fs';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  printSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';

const contract = buildSchema(
  readFileSync(new URL('../../../shared/design/contract.graphql', import.meta.url), 'utf8'),
);

/** Types of the contract this part of the schema serves; mutations and subscriptions have their own. */
const READ_SIDE = (type: GraphQLNamedType) =>
  !type.name.startsWith('__') && !/Input$|Payload$|^Mutation$|^Upload$/.test(type.name);

function fieldsOf(type: GraphQLNamedType): Record<string, GraphQLField<unknown, unknown>> {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields() : {};
}

describe('the printed schema', () => {
  it('has every read-side type, field and argument of the contract, with the same types and nullability', () => {
    const missing: string[] = [];
    for (const expected of Object.values(contract.getTypeMap()).filter(READ_SIDE)) {
      const actual = schema.getType(expected.name);
      if (!actual || actual.constructor !== expected.constructor) {
        missing.push(`type ${expected.name}`);
        continue;
      }
      if (isEnumType(expected) && isEnumType(actual)) {
        for (const value of expected.getValues()) {
          if (!actual.getValue(value.name)) missing.push(`${expected.name}.${value.name}`);
        }
      }
      const actualFields = fieldsOf(actual);
      for (const [name, field] of Object.entries(fieldsOf(expected))) {
        const mine = actualFields[name];
        if (!mine) {
          missing.push(`${expected.name}.${name}`);
          continue;
        }
        if (String(mine.type) !== String(field.type))
          missing.push(`${expected.name}.${name}: ${mine.type} != ${field.type}`);
        for (const arg of field.args) {
          const myArg = mine.args.find((candidate) => candidate.name === arg.name);
          if (!myArg || String(myArg.type) !== String(arg.type))
            missing.push(`${expected.name}.${name}(${arg.name}: ${arg.type})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('describes every type, field, argument and enum value', () => {
    const undocumented: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (!type.description) undocumented.push(type.name);
      if (isEnumType(type)) {
        for (const value of type.getValues())
          if (!value.description) undocumented.push(`${type.name}.${value.name}`);
      }
      const fields = isInputObjectType(type) ? type.getFields() : fieldsOf(type);
      for (const [name, field] of Object.entries(fields)) {
        if (!field.description) undocumented.push(`${type.name}.${name}`);
        for (const arg of 'args' in field ? field.args : []) {
          if (!arg.description) undocumented.push(`${type.name}.${name}(${arg.name})`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('has no snake_case name anywhere', () => {
    const names: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      names.push(type.name);
      const fields = isInputObjectType(type) ? type.getFields() : fieldsOf(type);
      for (const [name, field] of Object.entries(fields)) {
        names.push(name);
        for (const arg of 'args' in field ? field.args : []) names.push(arg.name);
      }
    }
    expect(names.filter((name) => name.includes('_'))).toEqual([]);
  });

  it('is what schema.graphql holds (run `npm run schema:print` after changing it)', () => {
    const printed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(printed).toBe(`${printSchema(schema)}\n`);
  });
});
