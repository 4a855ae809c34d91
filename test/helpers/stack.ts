import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { generate } from 'otplib';
import { CONTEXT_HEADER, createSecretBox, deriveContextKey, type PublishedSigningKey, type RevocationBus } from '../../auth';
import { createMemoryEventBus, type EventBus } from '../../service/eventBus';
import { loadConfig as loadGatewayConfig } from '../../gateway/config';
import { createGateway, type CreateGatewayOptions, type Gateway } from '../../gateway/createGateway';
import { closeGracefully, serveSubgraph, type RunningSubgraph } from '../../subgraphs/kit';
import * as auth from '../../subgraphs/auth/subgraph';
import { createKeyStore } from '../../subgraphs/auth/keyStore';
import type { AuthConfig } from '../../subgraphs/auth/config';
import { localSubgraphs } from '../../scripts/localSubgraphs';
import { createTestDatabase, type TestDatabase } from './database';

/** The subgraphs of supergraph.yaml that live in this repository, as `npm start` runs them. */
const LOCAL_SUBGRAPHS = localSubgraphs();
export const SUBGRAPH_NAMES = LOCAL_SUBGRAPHS.map((subgraph) => subgraph.name);
export type SubgraphName = 'auth' | 'users' | 'records' | 'complaints' | (string & {});

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
  /** How many times the auth service's JWKS was fetched. */
  jwksFetches(): number;
  /** Milliseconds each subgraph waits before answering /graphql (to test timeouts and draining). */
  delays: Partial<Record<SubgraphName, number>>;
  /** Milliseconds each subgraph holds its /graphql answer once it has executed (a slow answer after the work). */
  responseDelays: Partial<Record<SubgraphName, number>>;
  contextSecret: string;
  /** The auth service's current signing key, read from its key store (tests mint tokens with it). */
  signingKey: PublishedSigningKey;
  /** The key store of the auth service's database (rotate keys, read the current one). */
  keyStore: ReturnType<typeof createKeyStore>;
  /** Redis key prefix of this stack (unique per test file), or undefined on the in-memory bus. */
  redisPrefix?: string;
  revocationBus?: RevocationBus;
  /** The in-memory event bus of the subgraphs and gateways (undefined on Redis). */
  eventBus?: EventBus;
  issuer: string;
  audience: string;
  supergraphPath: string;
  workDir: string;
  /** The auth service's key-encryption key (tests build key stores of their own with it). */
  encryptionKey: string;
  /**
   * Starts one more gateway instance on the same subgraphs and bus (closed with the stack); `options` give it a
   * logger and a clock of its own.
   */
  addGateway(
    env?: Record<string, string>,
    options?: Pick<CreateGatewayOptions, 'logger' | 'now'>,
  ): Promise<{ gateway: Gateway; url: string }>;
  /** Calls recorded across all subgraphs since the last reset. */
  totalCalls(): number;
  resetCalls(): void;
  gql(
    query: string,
    options?: { token?: string; variables?: Record<string, unknown>; headers?: Record<string, string>; url?: string },
  ): Promise<GraphQLResult>;
  /** Logs in through the gateway (answering a second-step challenge for enrolled users) and returns the access token. */
  login(email: string, tenant: string, password?: string): Promise<string>;
  /** Like login, with the whole AuthSession. */
  loginSession(
    email: string,
    tenant: string,
    options?: { password?: string; url?: string },
  ): Promise<{ accessToken: string; refreshToken: string }>;
  close(): Promise<void>;
}

/** The demo admins' authenticator secret (the README publishes it for development). */
export const DEMO_TOTP_SECRET = auth.DEMO_TOTP_SECRET;

const spentSteps = new Map<string, number>();
/**
 * A TOTP code for a time step this user has not spent yet in this test process. The server accepts one step of
 * drift either way and each step only once, so a user gets three codes (previous, current, next step) per
 * 30 seconds; beyond that this waits. Codes are never made in the last second of a step, so a code cannot expire
 * on its way to the server.
 */
export async function nextTotpCode(user: string, secret = DEMO_TOTP_SECRET): Promise<string> {
  for (;;) {
    if (Date.now() % 30_000 > 29_000) await new Promise((resolve) => setTimeout(resolve, 30_050 - (Date.now() % 30_000)));
    const current = Math.floor(Date.now() / 30_000);
    const step = Math.max(current - 1, (spentSteps.get(user) ?? -Infinity) + 1);
    if (step <= current + 1) {
      spentSteps.set(user, step);
      return generate({ secret, epoch: step * 30 });
    }
    await new Promise((resolve) => setTimeout(resolve, (current + 1) * 30_000 - Date.now() + 50));
  }
}

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

/** Removes what one test stack left in Redis (its streams and counters), so runs leave no trace. */
async function deleteRedisKeys(url: string, prefix: string) {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface StackOptions {
  gatewayEnv?: Record<string, string>;
  /** Variables for every subgraph (auth included). */
  subgraphEnv?: Record<string, string>;
  authEnv?: Record<string, string>;
  /** Default false (silent); a stream receives every service's JSON log lines. */
  logger?: false | { level: string; stream: NodeJS.WritableStream };
}

/**
 * POSTs an operation straight to a subgraph with a context header made for its exact body: `sign` receives the body
 * and returns the header (or undefined for none). Used to test what subgraphs accept when called directly.
 */
export async function postToSubgraph(
  url: string,
  query: string,
  sign: (body: string) => string | undefined,
  options: { variables?: Record<string, unknown>; sendBody?: (body: string) => string } = {},
): Promise<GraphQLResult> {
  const body = JSON.stringify({ query, variables: options.variables });
  const header = sign(body);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header ? { [CONTEXT_HEADER]: header } : {}) },
    body: options.sendBody ? options.sendBody(body) : body,
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResult['body'] };
}

/**
 * Starts the four subgraphs and a gateway over real HTTP on port 0, on a fresh database, with an encryption key
 * and context secret minted for this run. With REDIS_URL set (CI), revocations and throttling use that Redis under
 * a key prefix of this stack's own. Every request reaching a subgraph is recorded.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // Bounded but generous (a busy two-core machine starts a stack in seconds, rarely in a minute), and on time-out it
  // says what was still starting rather than leaving jest to report a hook that exceeded its time.
  const progress: string[] = [];
  let step = 'the database';
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `startStack: still starting ${step} after ${STACK_START_TIMEOUT_MS / 1000} s (ready: ${progress.join(', ') || 'nothing'})`,
          ),
        ),
      STACK_START_TIMEOUT_MS,
    );
  });
  const starting = (async () => {
    const db = await createTestDatabase();
    progress.push('the database');
    step = 'the subgraphs';
    try {
      return await startOn(db, options, (next, done) => {
        if (done) progress.push(done);
        step = next;
      });
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
  })();
  try {
    return await Promise.race([starting, timedOut]);
  } catch (error) {
    // A stack that finishes starting after the time-out is closed, not left running into the next file.
    starting.then((late) => late.close()).catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** How long startStack may take before it fails naming what was still starting (jest's testTimeout is longer). */
const STACK_START_TIMEOUT_MS = 150_000;

async function startOn(db: TestDatabase, options: StackOptions, report: (next: string, done?: string) => void): Promise<Stack> {
  const workDir = await mkdtemp(join(tmpdir(), 'gatehouse-test-'));
  const encryptionKey = randomBytes(32).toString('base64url');
  const contextSecret = randomBytes(32).toString('base64url');
  const supergraphPath = join(workDir, 'supergraph.graphql');
  await copyFile(resolve(__dirname, '../../supergraph.graphql'), supergraphPath);
  const issuer = 'http://gatehouse-auth.test';
  const audience = 'gatehouse';

  const redisPrefix = process.env.REDIS_URL ? `gatehouse-test-${randomBytes(6).toString('hex')}:` : undefined;
  const baseEnv: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    METRICS_PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: workDir,
    SEED_DEMO_DATA: 'true',
    LOG_LEVEL: 'silent',
  };
  // A generous Redis timeout: suites run side by side on a busy machine; the 50 ms default is slowRedis's business.
  if (redisPrefix) Object.assign(baseEnv, { REDIS_URL: process.env.REDIS_URL!, REDIS_KEY_PREFIX: redisPrefix, REDIS_TIMEOUT_MS: '1000' });
  const subgraphEnv = { ...baseEnv, ...options.subgraphEnv };
  const authConfig = LOCAL_SUBGRAPHS.find((subgraph) => subgraph.name === 'auth')!.loadConfig({
    ...subgraphEnv,
    TOKEN_ISSUER: issuer,
    TOKEN_AUDIENCE: audience,
    AUTH_KEY_ENCRYPTION_KEY: encryptionKey,
    ...options.authEnv,
  });
  // Without Redis, the auth subgraph and the gateway share one in-memory bus, as under npm start.
  const revocationBus = redisPrefix ? undefined : auth.createRevocationBus(authConfig as AuthConfig);
  const eventBus = redisPrefix ? undefined : createMemoryEventBus();

  const subgraphs = {} as Stack['subgraphs'];
  let jwksFetches = 0;
  const delays: Stack['delays'] = {};
  const responseDelays: Stack['responseDelays'] = {};
  let previous: string | undefined;
  for (const { name, module, loadConfig: load } of LOCAL_SUBGRAPHS) {
    report(`the ${name} subgraph`, previous);
    previous = `the ${name} subgraph`;
    const calls: RecordedCall[] = [];
    const running = await serveSubgraph(module, name === 'auth' ? authConfig : load(subgraphEnv), {
      pool: db.pool,
      shared: { revocationBus, eventBus },
      contextKey: deriveContextKey(contextSecret, name),
      logger: options.logger ?? false,
      beforeListen: (app) => {
        app.addHook('onRequest', async (request) => {
          if (request.url.startsWith('/graphql')) {
            calls.push({ headers: { ...request.headers }, body: undefined });
            if (delays[name]) await new Promise((resolve) => setTimeout(resolve, delays[name]));
          }
          if (request.url.startsWith('/.well-known/jwks.json')) jwksFetches += 1;
        });
        app.addHook('onSend', async (request, _reply, payload) => {
          if (request.url.startsWith('/graphql') && responseDelays[name])
            await new Promise((resolve) => setTimeout(resolve, responseDelays[name]));
          return payload;
        });
      },
    });
    subgraphs[name] = Object.assign(running, { calls });
  }

  const gatewayEnv: Record<string, string> = {
    // Request limits off: tests send far more than a client would from one address (limits have tests of their own).
    RATE_LIMIT_PER_USER: '0',
    RATE_LIMIT_PER_TENANT: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    SUPERGRAPH_PATH: supergraphPath,
    SUPERGRAPH_POLL_MS: '100',
    TOKEN_ISSUER: issuer,
    TOKEN_AUDIENCE: audience,
    AUTH_JWKS_URL: subgraphs.auth.url.replace('/graphql', '/.well-known/jwks.json'),
    ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`SUBGRAPH_${name.toUpperCase()}_URL`, subgraphs[name].url])),
    ...options.gatewayEnv,
  };
  report('the gateway', previous);
  const gatewayConfig = loadGatewayConfig({ ...baseEnv, ...gatewayEnv });
  const gateway = await createGateway({ config: gatewayConfig, contextSecret, logger: options.logger ?? false, revocationBus, eventBus });
  const gatewayUrl = await gateway.start();
  const extraGateways: Gateway[] = [];
  async function addGateway(env: Record<string, string> = {}, extra: Pick<CreateGatewayOptions, 'logger' | 'now'> = {}) {
    const config = loadGatewayConfig({ ...baseEnv, ...gatewayEnv, ...env });
    const another = await createGateway({ config, contextSecret, logger: options.logger ?? false, revocationBus, eventBus, ...extra });
    extraGateways.push(another);
    return { gateway: another, url: await another.start() };
  }
  report('the key store', 'the gateway');
  const keyStore = createKeyStore({
    pool: db.pool,
    secretBox: createSecretBox(encryptionKey),
    activationDelaySeconds: 0,
    accessTokenTtlSeconds: 900,
  });
  await keyStore.init();

  async function loginSession(email: string, tenant: string, loginOptions: { password?: string; url?: string } = {}) {
    const url = loginOptions.url ?? gatewayUrl;
    const result = await postGraphQL(
      url,
      /* GraphQL */ `
        mutation Login($input: LoginInput!) {
          login(input: $input) {
            __typename
            ... on AuthSession {
              accessToken
              refreshToken
            }
            ... on TwoFactorChallenge {
              challengeId
            }
          }
        }
      `,
      { variables: { input: { email, password: loginOptions.password ?? 'gatehouse-demo', tenant } } },
    );
    const login = result.body.data?.login;
    if (login?.__typename === 'AuthSession') return login as { accessToken: string; refreshToken: string };
    if (login?.__typename !== 'TwoFactorChallenge') throw new Error(`login failed for ${email}: ${JSON.stringify(result.body.errors)}`);
    // The demo admins have an authenticator: answer with a code no earlier login of this user has spent.
    const code = await nextTotpCode(`${tenant}:${email}`);
    const verified = await postGraphQL(
      url,
      'mutation($id: ID!, $code: String!) { verifyLoginCode(challengeId: $id, code: $code) { accessToken refreshToken } }',
      {
        variables: { id: login.challengeId, code },
      },
    );
    if (!verified.body.data?.verifyLoginCode) throw new Error(`second step failed for ${email}: ${JSON.stringify(verified.body.errors)}`);
    return verified.body.data.verifyLoginCode as { accessToken: string; refreshToken: string };
  }

  return {
    gatewayUrl,
    gateway,
    db,
    subgraphs,
    contextSecret,
    get signingKey() {
      return keyStore.current();
    },
    keyStore,
    encryptionKey,
    addGateway,
    redisPrefix,
    revocationBus,
    eventBus,
    issuer,
    audience,
    supergraphPath,
    workDir,
    jwksFetches: () => jwksFetches,
    delays,
    responseDelays,
    totalCalls: () => SUBGRAPH_NAMES.reduce((sum, name) => sum + subgraphs[name].calls.length, 0),
    resetCalls: () => SUBGRAPH_NAMES.forEach((name) => (subgraphs[name].calls.length = 0)),
    gql: (query, gqlOptions = {}) => postGraphQL(gqlOptions.url ?? gatewayUrl, query, gqlOptions),
    async login(email, tenant, password = 'gatehouse-demo') {
      return (await loginSession(email, tenant, { password })).accessToken;
    },
    loginSession,
    async close() {
      for (const another of extraGateways) await another.close();
      await gateway.close();
      for (const name of SUBGRAPH_NAMES) await closeGracefully(subgraphs[name].app);
      await revocationBus?.close();
      if (redisPrefix) await deleteRedisKeys(process.env.REDIS_URL!, redisPrefix);
      await db.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
