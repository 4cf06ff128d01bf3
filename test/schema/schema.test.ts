import { readFileSync } from 'node:fs';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLNamedType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  printSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';

const contract = buildSchema(readFileSync(new URL('./contract.graphql', import.meta.url), 'utf8'));

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

  it('has every mutation of the contract, with `input: <Name>Input!` and its payload (directly or in a union)', () => {
    const missing: string[] = [];
    const contractMutations = contract.getMutationType()?.getFields() ?? {};
    const mutations = schema.getMutationType()?.getFields() ?? {};
    expect(Object.keys(contractMutations)).toHaveLength(8);
    for (const [name, expected] of Object.entries(contractMutations)) {
      const mine = mutations[name];
      if (!mine) {
        missing.push(`Mutation.${name}`);
        continue;
      }
      const typeName = name.charAt(0).toUpperCase() + name.slice(1);
      const input = mine.args.find((arg) => arg.name === 'input');
      if (mine.args.length !== 1 || String(input?.type) !== `${typeName}Input!`) {
        missing.push(`Mutation.${name}(input: ${typeName}Input!)`);
      }
      // `<Name>Payload!` itself, or a non-null `<Name>Result` union with the payload as a member.
      const returned = getNamedType(mine.type);
      const payloadName = String(getNamedType(expected.type));
      const reachesPayload =
        isNonNullType(mine.type) &&
        (returned.name === payloadName ||
          (isUnionType(returned) &&
            returned.name === `${typeName}Result` &&
            returned.getTypes().some((member) => member.name === payloadName)));
      if (!reachesPayload) missing.push(`Mutation.${name}: ${mine.type} does not reach ${payloadName}`);
    }
    expect(missing).toEqual([]);
  });

  it('has every mutation input and payload field of the contract, with the same types', () => {
    const missing: string[] = [];
    const sides = Object.values(contract.getTypeMap()).filter((type) => /Input$|Payload$/.test(type.name));
    expect(sides.length).toBeGreaterThanOrEqual(17);
    for (const expected of sides) {
      const actual = schema.getType(expected.name);
      const bothInputs = isInputObjectType(expected) && isInputObjectType(actual);
      const bothObjects = isObjectType(expected) && isObjectType(actual);
      if (!actual || !(bothInputs || bothObjects)) {
        missing.push(`type ${expected.name}`);
        continue;
      }
      const expectedFields = expected.getFields();
      const actualFields = actual.getFields();
      for (const [name, field] of Object.entries(expectedFields)) {
        const mine = actualFields[name];
        if (!mine || String(mine.type) !== String(field.type)) {
          missing.push(`${expected.name}.${name}: ${mine?.type} != ${field.type}`);
        }
        // An input field the contract leaves optional must not become required.
        if (mine && bothInputs && isNonNullType(mine.type) && !isNonNullType(field.type)) {
          missing.push(`${expected.name}.${name} is required`);
        }
      }
      if (bothInputs) {
        for (const [name, field] of Object.entries(actualFields)) {
          if (!expectedFields[name] && isNonNullType(field.type))
            missing.push(`${expected.name}.${name} is required`);
        }
      }
    }
    expect(isScalarType(schema.getType('Upload'))).toBe(true);
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
