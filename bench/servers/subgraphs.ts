/**
 * Benchmark: the four subgraphs in one process on one database (the embedded PGlite unless DATABASE_URL), seeded
 * (the demo data, and the list page's of seedListPage.ts), with the context secret and key-encryption key the harness
 * gives. Writes { urls, metricsUrls, jwksUrl, mintUrl } to argv[2]. `POST mintUrl` with { count, file } writes that
 * many access tokens for distinct sessions of acme's member, minted with the auth service's real key, to the file (for
 * the "new token on every request" scenario and the memory figure), and answers once they are written. Tokens are
 * minted when the harness needs them, not all at the start: the gateway refuses a token that lives longer than 20
 * minutes, and a full run lasts longer than that.
 */
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { seedListPage } from './seedListPage';

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
  const metricsUrls: Record<string, string> = {};
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
    metricsUrls[module.name] = running.metricsUrl;
  }
  await seedListPage(pool);
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
  const mint = async (count: number, file: string) => {
    const tokens: string[] = [];
    // 64 signatures in flight: the RSA work runs on libuv's threads, on every core the process may use.
    while (tokens.length < count) {
      const batch = Array.from({ length: Math.min(64, count - tokens.length) }, () =>
        issuer.issue({ userId: member.id, tenantId: DEMO_TENANTS[0].id, roles: ['MEMBER'], sessionId: crypto.randomUUID() }),
      );
      for (const issued of await Promise.all(batch)) tokens.push(issued.token);
    }
    await writeFile(file, tokens.join('\n'));
  };
  const minter = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const { count, file } = JSON.parse(body) as { count: number; file: string };
      mint(count, file).then(
        () => response.end('{}'),
        (error) => ((response.statusCode = 500), response.end(String(error))),
      );
    });
  });
  await new Promise<void>((resolve) => minter.listen(0, '127.0.0.1', resolve));
  const mintUrl = `http://127.0.0.1:${(minter.address() as AddressInfo).port}/mint`;
  await writeFile(
    process.argv[2],
    JSON.stringify({ urls, metricsUrls, jwksUrl: urls.auth.replace('/graphql', '/.well-known/jwks.json'), mintUrl }),
  );
}

profileOnSignal();

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
