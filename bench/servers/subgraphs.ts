/**
 * Benchmark: the four subgraphs in one process on one database (the embedded PGlite unless DATABASE_URL), seeded,
 * with the context secret and key-encryption key the harness gives. Writes { urls, jwksUrl, tokens } to argv[2]:
 * `tokens` is a file of BENCH_TOKENS access tokens for distinct sessions of acme's member, minted with the auth
 * service's real key (for the "new token on every request" run).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAccessTokenIssuer, createSecretBox, deriveContextKey } from '../../auth';
import * as auth from '../../subgraphs/auth/subgraph';
import { loadConfig as loadAuthConfig } from '../../subgraphs/auth/config';
import { createKeyStore } from '../../subgraphs/auth/keyStore';
import * as complaints from '../../subgraphs/complaints/subgraph';
import { loadConfig as loadComplaintsConfig } from '../../subgraphs/complaints/config';
import { DEMO_TENANTS, openEmbeddedPool, openPool, serveSubgraph } from '../../subgraphs/kit';
import * as records from '../../subgraphs/records/subgraph';
import { loadConfig as loadRecordsConfig } from '../../subgraphs/records/config';
import * as users from '../../subgraphs/users/subgraph';
import { loadConfig as loadUsersConfig } from '../../subgraphs/users/config';
import { profileOnSignal } from './profileOnSignal';

async function main() {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    SEED_DEMO_DATA: 'true',
    // Only the configurations are told `test`, so that they accept the demo data; the process itself runs with
    // NODE_ENV=production (bench/run.ts), like a deployed subgraph, which is what its libraries read.
    NODE_ENV: 'test',
  };
  const pool = env.DATABASE_URL ? openPool(env.DATABASE_URL, 20) : (await openEmbeddedPool(join(env.DATA_DIR!, 'pglite'))).pool;
  const secret = env.BENCH_CONTEXT_SECRET!;
  const authConfig = loadAuthConfig(env);
  const urls: Record<string, string> = {};
  for (const [module, config] of [
    [auth, authConfig],
    [users, loadUsersConfig(env)],
    [records, loadRecordsConfig(env)],
    [complaints, loadComplaintsConfig(env)],
  ] as const) {
    const running = await serveSubgraph(module as never, config as never, {
      pool,
      contextKey: deriveContextKey(secret, module.name),
      logger: false,
    });
    urls[module.name] = running.url;
  }
  // A disabled account, for the login-timing comparison (unknown user / wrong password / disabled account).
  await pool.query("UPDATE auth.credentials SET disabled_at = now() WHERE email = 'agent@globex.example'");
  const keys = createKeyStore({
    pool,
    secretBox: createSecretBox(env.AUTH_KEY_ENCRYPTION_KEY!),
    activationDelaySeconds: 0,
    accessTokenTtlSeconds: 900,
  });
  await keys.init();
  const issuer = createAccessTokenIssuer({
    issuer: authConfig.TOKEN_ISSUER,
    audience: authConfig.TOKEN_AUDIENCE,
    signingKey: keys.current(),
  });
  const member = DEMO_TENANTS[0].users.member;
  const tokens: string[] = [];
  for (let i = 0; i < Number(env.BENCH_TOKENS ?? 0); i++) {
    tokens.push(
      (await issuer.issue({ userId: member.id, tenantId: DEMO_TENANTS[0].id, roles: ['MEMBER'], sessionId: crypto.randomUUID() })).token,
    );
  }
  const tokensFile = `${process.argv[2]}.tokens`;
  await writeFile(tokensFile, tokens.join('\n'));
  await writeFile(
    process.argv[2],
    JSON.stringify({ urls, jwksUrl: urls.auth.replace('/graphql', '/.well-known/jwks.json'), tokens: tokensFile }),
  );
}

profileOnSignal();

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
