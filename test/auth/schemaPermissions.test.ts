import { buildSubgraphSchema } from '@apollo/subgraph';
import { applyMiddleware } from 'graphql-middleware';
import { graphql, parse } from 'graphql';
import { createSchemaPermissions, type ContextUser, type ObjectPolicy } from '../../auth';

const sdl = (policy: string) =>
  parse(/* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@policy", "@authenticated"])
    type Query {
      note: Note @authenticated
    }
    type Note {
      text: String @policy(policies: [["${policy}"]])
      other: String
    }
    type Thing @key(fields: "id") {
      id: ID! @authenticated
    }
  `);
const viewer: ContextUser = { id: 'u', tenantId: 't', roles: [], scopes: [], sessionId: 's' };
const run = async (policies: Record<string, ObjectPolicy>, source = '{ note { text } }') => {
  const schema = applyMiddleware(
    buildSubgraphSchema({ typeDefs: sdl('mine'), resolvers: { Query: { note: () => ({ text: 'secret', other: 'x' }) } } }),
    createSchemaPermissions(sdl('mine'), policies),
  );
  return graphql({ schema, source, contextValue: { viewer } });
};

describe('rules generated from a subgraph schema', () => {
  it('refuse to start when the SDL names an object policy the subgraph does not implement, even one named like an Object member', () => {
    expect(() => createSchemaPermissions(sdl('mine'), {})).toThrow(/object policy "mine"/);
    expect(() => createSchemaPermissions(sdl('constructor'), {})).toThrow(/object policy "constructor"/);
    expect(() => createSchemaPermissions(sdl('toString'), {})).toThrow(/object policy "toString"/);
  });

  it('allow an object only when its policy answers exactly true', async () => {
    expect((await run({ mine: () => true })).data).toEqual({ note: { text: 'secret' } });
    const truthy = await run({ mine: () => 'yes' as unknown as boolean });
    expect(truthy.data).toEqual({ note: { text: null } });
    expect(truthy.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'policy_not_met' });
  });

  it('deny a field that declares no requirement, with a coded error rather than "Not Authorised!"', async () => {
    const result = await run({ mine: () => true }, '{ note { other } }');
    expect(result.data).toEqual({ note: { other: null } });
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'no_rule' });
  });
});
