import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, type DocumentNode } from 'graphql';
import { Supergraph } from '@apollo/federation-internals';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { enforceAuthorization } from '../../gateway/enforceAuthorization';
import { acknowledgeEnforcedFeatures } from '../../gateway/supergraphSource';
import { scopesOf } from '../helpers/scopes';

const sdl = acknowledgeEnforcedFeatures(readFileSync(resolve(__dirname, '../../supergraph.graphql'), 'utf8'));
const schema = Supergraph.build(sdl).apiSchema().toGraphQLJSSchema();

/** Apollo Gateway's place, recording what it is asked to plan. */
function fakeGateway() {
  const planned: Array<{ document: DocumentNode; queryHash: string }> = [];
  const gateway = {
    onSchemaLoadOrUpdate(callback: (schemaContext: { apiSchema: typeof schema; coreSupergraphSdl: string }) => void) {
      callback({ apiSchema: schema, coreSupergraphSdl: sdl });
      return () => undefined;
    },
    load: async () => ({
      executor: async (requestContext: { document: DocumentNode; queryHash: string }) => {
        planned.push({ document: requestContext.document, queryHash: requestContext.queryHash });
        return { data: { complaints: { nodes: [{ subject: 's' }] } } };
      },
    }),
    stop: async () => undefined,
  } as unknown as GatewayInterface;
  return { gateway, planned };
}

const user = (role: string) => ({ id: 'u', tenantId: 't', roles: [role], scopes: scopesOf([role]), sessionId: 's' });

describe('enforceAuthorization', () => {
  it('filters an operation once per scope set and reuses that document, under its own hash, for every later request', async () => {
    const { gateway, planned } = fakeGateway();
    const { executor } = await enforceAuthorization(gateway, { stepUpMaxAgeSeconds: 900 }).load({ apollo: {} as never });
    const query = '{ complaints(first: 5) { nodes { subject internalNotes } } }';
    const document = parse(query);
    const requestOf = (role: string) =>
      ({
        context: { user: user(role) },
        queryHash: 'q1',
        request: { operationName: undefined },
        document,
        operation: document.definitions[0],
        schema,
      }) as never;
    for (const role of ['MEMBER', 'MEMBER', 'AGENT', 'MEMBER', 'AGENT']) await executor!(requestOf(role));
    const [member1, member2, agent1, member3, agent2] = planned;
    expect(member1.document).not.toBe(document); // internalNotes removed for a member
    expect(member2.document).toBe(member1.document); // the cached filtered document, not a new one
    expect(member3.document).toBe(member1.document);
    expect(member1.queryHash).not.toBe('q1');
    expect(agent1.document).toBe(document); // an agent may see everything: the original, under the original hash
    expect(agent1.queryHash).toBe('q1');
    expect(agent2.document).toBe(document);
  });
});
