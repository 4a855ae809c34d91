import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deriveContextKey, generateSigningKey, type PublishedSigningKey } from '../../auth';
import { loadConfig as loadGatewayConfig } from '../../gateway/config';
import { createGateway, type Gateway } from '../../gateway/createGateway';
import { serveSubgraph, type RunningSubgraph, type SubgraphModule } from '../../subgraphs/kit';
import * as auth from '../../subgraphs/auth/subgraph';
import { loadConfig as loadAuthConfig } from '../../subgraphs/auth/config';
import * as users from '../../subgraphs/users/subgraph';
import { loadConfig as loadUsersConfig } from '../../subgraphs/users/config';
import * as records from '../../subgraphs/records/subgraph';
import { loadConfig as loadRecordsConfig } from '../../subgraphs/records/config';
import * as complaints from '../../subgraphs/complaints/subgraph';
import { loadConfig as loadComplaintsConfig } from '../../subgraphs/complaints/config';
import { createTestDatabase, type TestDatabase } from './database';

export const SUBGRAPH_NAMES = ['auth', 'users', 'records', 'complaints'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** One HTTP request that reached a subgraph (recorded before the subgraph checks anything). */
export interface RecordedCall {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface GraphQLResult {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: Array<{ message: string; path?: (string | number)[]; extensions?: Record<string, any> }> };
}

export interface Stack {
  gatewayUrl: string;
  gateway: Gateway;
  db: TestDatabase;
  subgraphs: Record<SubgraphName, RunningSubgraph & { calls: RecordedCall[] }>;
  contextSecret: string;
  signingKey: PublishedSigningKey;
  issuer: string;
  audience: string;
  supergraphPath: string;
  workDir: string;
  /** Calls recorded across all subgraphs since the last reset. */
  totalCalls(): number;
  resetCalls(): void;
  gql(
    query: string,
    options?: { token?: string; variables?: Record<string, unknown>; headers?: Record<string, string>; url?: string },
  ): Promise<GraphQLResult>;
  login(email: string, tenant: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

const MODULES: Record<SubgraphName, { module: SubgraphModule<any>; load: (env: Record<string, string | undefined>) => any }> = {
  auth: { module: auth, load: loadAuthConfig },
  users: { module: users, load: loadUsersConfig },
  records: { module: records, load: loadRecordsConfig },
  complaints: { module: complaints, load: loadComplaintsConfig },
};

/** POSTs a GraphQL operation. */
export async function postGraphQL(
  url: string,
  query: string,
  options: { token?: string; variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<GraphQLResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables: options.variables }) });
  const text = await response.text();
  let body: GraphQLResult['body'];
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: `non-JSON response: ${text.slice(0, 200)}` }] };
  }
  return { status: response.status, headers: response.headers, body };
}

/**
 * Starts the four subgraphs and a gateway over real HTTP on port 0, on a fresh database, with a signing key and
 * context secret minted for this run. Every request reaching a subgraph is recorded.
 */
export async function startStack(options: { gatewayEnv?: Record<string, string>; logger?: boolean } = {}): Promise<Stack> {
  const workDir = await mkdtemp(join(tmpdir(), 'gatehouse-test-'));
  const signingKey = await generateSigningKey();
  const keyFile = join(workDir, 'signing-key.pem');
  await writeFile(keyFile, signingKey.privatePem, { mode: 0o600 });
  const contextSecret = randomBytes(32).toString('base64url');
  const supergraphPath = join(workDir, 'supergraph.graphql');
  await copyFile(resolve(__dirname, '../../supergraph.graphql'), supergraphPath);
  const issuer = 'http://gatehouse-auth.test';
  const audience = 'gatehouse';

  const db = await createTestDatabase();
  try {
    return await startOn(db);
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }

  async function startOn(db: TestDatabase): Promise<Stack> {
    const baseEnv = { NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATA_DIR: workDir, SEED_DEMO_DATA: 'true', LOG_LEVEL: 'silent' };
    const subgraphs = {} as Stack['subgraphs'];
    for (const name of SUBGRAPH_NAMES) {
      const { module, load } = MODULES[name];
      const calls: RecordedCall[] = [];
      const config = load({ ...baseEnv, TOKEN_ISSUER: issuer, TOKEN_AUDIENCE: audience, AUTH_SIGNING_KEY_FILE: keyFile });
      const running = await serveSubgraph(module, config, {
        pool: db.pool,
        contextKey: deriveContextKey(contextSecret, name),
        logger: options.logger ?? false,
        beforeListen: (app) =>
          app.addHook('onRequest', async (request) => {
            if (request.url.startsWith('/graphql')) calls.push({ headers: { ...request.headers }, body: undefined });
          }),
      });
      subgraphs[name] = Object.assign(running, { calls });
    }

    const gatewayConfig = loadGatewayConfig({
      ...baseEnv,
      SUPERGRAPH_PATH: supergraphPath,
      SUPERGRAPH_POLL_MS: '100',
      TOKEN_ISSUER: issuer,
      TOKEN_AUDIENCE: audience,
      AUTH_JWKS_URL: subgraphs.auth.url.replace('/graphql', '/.well-known/jwks.json'),
      ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`SUBGRAPH_${name.toUpperCase()}_URL`, subgraphs[name].url])),
      ...options.gatewayEnv,
    });
    const gateway = await createGateway({ config: gatewayConfig, contextSecret, logger: options.logger ?? false });
    const gatewayUrl = await gateway.start();

    const stack: Stack = {
      gatewayUrl,
      gateway,
      db,
      subgraphs,
      contextSecret,
      signingKey,
      issuer,
      audience,
      supergraphPath,
      workDir,
      totalCalls: () => SUBGRAPH_NAMES.reduce((sum, name) => sum + subgraphs[name].calls.length, 0),
      resetCalls: () => SUBGRAPH_NAMES.forEach((name) => (subgraphs[name].calls.length = 0)),
      gql: (query, gqlOptions = {}) => postGraphQL(gqlOptions.url ?? gatewayUrl, query, gqlOptions),
      async login(email, tenant, password = 'gatehouse-demo') {
        const result = await postGraphQL(
          gatewayUrl,
          /* GraphQL */ `
            mutation Login($input: LoginInput!) {
              login(input: $input) {
                __typename
                ... on AuthSession {
                  accessToken
                }
              }
            }
          `,
          {
            variables: { input: { email, password, tenant } },
          },
        );
        const token = result.body.data?.login?.accessToken;
        if (!token) throw new Error(`login failed for ${email}: ${JSON.stringify(result.body.errors)}`);
        return token;
      },
      async close() {
        await gateway.close();
        for (const name of SUBGRAPH_NAMES) await subgraphs[name].app.close();
        await db.close();
        await rm(workDir, { recursive: true, force: true });
      },
    };
    return stack;
  }
}
