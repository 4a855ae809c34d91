import { buildSchema, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { createLeanPipeline } from '../../gateway/leanPipeline';
import type { GatewayContext } from '../../gateway/SignedContextDataSource';

const schemaV1 = buildSchema('type Query { a: Int b: Int }');
const schemaV2 = buildSchema('type Query { a: Int b: Int c: Int }');

interface Executed {
  document: DocumentNode;
  queryHash: string;
  operationName?: string;
}

/** Apollo Gateway's place: records what it is asked to execute; `update` stands for a supergraph reload. */
function fakeGateway() {
  const executed: Executed[] = [];
  let listener: ((schemaContext: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }) => void) | undefined;
  const gateway = {
    onSchemaLoadOrUpdate(callback: typeof listener) {
      listener = callback;
      callback!({ apiSchema: schemaV1, coreSupergraphSdl: '' });
      return () => undefined;
    },
    load: async () => ({
      executor: async (requestContext: { document: DocumentNode; queryHash: string; request: { operationName?: string } }) => {
        executed.push({
          document: requestContext.document,
          queryHash: requestContext.queryHash,
          operationName: requestContext.request.operationName,
        });
        return { data: { a: 1 } };
      },
    }),
    stop: async () => undefined,
  } as unknown as GatewayInterface;
  return { gateway, executed, update: (apiSchema: GraphQLSchema) => listener!({ apiSchema, coreSupergraphSdl: '' }) };
}

/** A validation rule that counts the documents validated (each validation visits the document once). */
function countingRule() {
  const counter = { validations: 0 };
  const rule: ValidationRule = () => ({ Document: () => void (counter.validations += 1) });
  return { rule, counter };
}

async function pipeline(maxCachedCharacters?: number) {
  const fake = fakeGateway();
  const { rule, counter } = countingRule();
  const lean = createLeanPipeline({
    validationRules: [rule],
    maxTokens: 1000,
    formatError: (formatted) => formatted,
    onErrors: () => undefined,
    didResolveOperation: async () => undefined,
    logger: console,
    maxCachedCharacters,
  });
  await lean.attach(fake.gateway).load({ apollo: {} as never });
  const context = (): GatewayContext => ({ user: null, requestId: 'r', clientAddress: '', stats: {} });
  const post = (body: unknown) => lean.handle({ method: 'POST', contentType: 'application/json', accept: undefined, body }, context());
  return { ...fake, counter, post };
}

describe('the lean pipeline', () => {
  it('parses and validates a query text once: later requests reuse the same document and hash', async () => {
    const { post, executed, counter } = await pipeline();
    for (let i = 0; i < 3; i++) expect((await post({ query: '{ a }' }))?.body).toBe('{"data":{"a":1}}\n');
    expect(counter.validations).toBe(1);
    expect(executed).toHaveLength(3);
    expect(new Set(executed.map((entry) => entry.document)).size).toBe(1);
    expect(new Set(executed.map((entry) => entry.queryHash)).size).toBe(1);
  });

  it('resolves each named operation of a document once, and passes the name on only where the document has several', async () => {
    const { post, executed, counter } = await pipeline();
    const several = 'query A { a } query B { b }';
    await post({ query: several, operationName: 'A' });
    await post({ query: several, operationName: 'B' });
    await post({ query: several, operationName: 'A' });
    await post({ query: 'query Only { a }', operationName: 'Only' });
    expect(counter.validations).toBe(2);
    // The executor hashes a name into its plan key on every request: of a single operation it adds nothing.
    expect(executed.map((entry) => entry.operationName)).toEqual(['A', 'B', 'A', undefined]);
  });

  it('validates again against a reloaded schema', async () => {
    const { post, counter, update } = await pipeline();
    await post({ query: '{ a }' });
    // A field only the new schema has: unknown before the reload (left to Apollo Server), answered after.
    expect(await post({ query: '{ c }' })).toBeUndefined();
    update(schemaV2);
    await post({ query: '{ a }' });
    expect(await post({ query: '{ c }' })).toBeDefined();
    expect(counter.validations).toBe(4);
  });

  it('keeps rejected texts too, and leaves their answer to Apollo Server', async () => {
    const { post, counter, executed } = await pipeline();
    expect(await post({ query: '{ nope }' })).toBeUndefined();
    expect(await post({ query: '{ nope }' })).toBeUndefined();
    expect(await post({ query: '{ a' })).toBeUndefined(); // a syntax error
    expect(counter.validations).toBe(1);
    expect(executed).toHaveLength(0);
  });

  it('holds at most maxCachedCharacters of query text: an evicted text is parsed again', async () => {
    const { post, counter } = await pipeline(10);
    await post({ query: '{ a }' }); // 5 characters
    await post({ query: '{ b }' }); // 10 in all
    await post({ query: '{ a }' });
    expect(counter.validations).toBe(2);
    await post({ query: '{ a b }' }); // 7 more: the least recently used goes
    await post({ query: '{ b }' });
    expect(counter.validations).toBe(4);
  });
});
