/**
 * `npm start`: the whole stack in one process on the embedded defaults (PGlite, in-memory everything), or on
 * DATABASE_URL when set. Production runs each service as its own process instead (npm run start:<service>).
 */
import { join } from 'node:path';
import type pg from 'pg';
import { loadConfig as loadGatewayConfig } from '../gateway/config';
import { createGateway } from '../gateway/createGateway';
import {
  DEMO_PASSWORD,
  DEMO_TENANTS,
  closeGracefully,
  closeOnSignals,
  openEmbeddedPool,
  openPool,
  serveSubgraph,
  type RunningSubgraph,
} from '../subgraphs/kit';
import { DEMO_TOTP_SECRET } from '../subgraphs/auth/data/seed';
import { createMemoryRevocationBus, type RevocationBus } from '../auth';
import { createMemoryEventBus } from '../service/eventBus';
import { localSubgraphs } from './localSubgraphs';

const env = process.env;
/** One service's environment: its own PORT and METRICS_PORT (AUTH_PORT, AUTH_METRICS_PORT, …; defaults per service). */
const withPort = (name: string, port: number) => ({
  ...env,
  PORT: env[`${name}_PORT`] ?? String(port),
  METRICS_PORT: env[`${name}_METRICS_PORT`] ?? String(port + 5400),
});

async function main() {
  const dataDir = env.DATA_DIR ?? '.data';
  let pool: pg.Pool;
  let closePool: () => Promise<void>;
  if (env.DATABASE_URL) {
    pool = openPool(env.DATABASE_URL, 20, (error) =>
      console.warn(`database: an idle connection failed (${error.message}); the pool dropped it`),
    );
    closePool = () => pool.end();
  } else {
    console.log(`Starting the embedded Postgres (PGlite) in ${join(dataDir, 'pglite')} …`);
    const embedded = await openEmbeddedPool(join(dataDir, 'pglite'));
    pool = embedded.pool;
    closePool = embedded.close;
  }

  // Every subgraph of supergraph.yaml that lives in this repository. Without Redis, the auth service and the gateway
  // share revocations in memory (they run in this one process).
  const subgraphs = localSubgraphs();
  const revocationBus: RevocationBus | undefined = env.REDIS_URL
    ? undefined
    : createMemoryRevocationBus({ retentionMs: Number(env.REVOCATION_RETENTION_SECONDS ?? 3600) * 1000 });
  // Likewise the complaints subgraph's events and the gateway's subscriptions.
  const eventBus = env.REDIS_URL ? undefined : createMemoryEventBus();
  const running: Array<RunningSubgraph & { name: string }> = [];
  for (const subgraph of subgraphs) {
    const config = subgraph.loadConfig(withPort(subgraph.name.toUpperCase(), subgraph.defaultPort));
    running.push({ name: subgraph.name, ...(await serveSubgraph(subgraph.module, config, { pool, shared: { revocationBus, eventBus } })) });
  }

  const subgraphUrls = Object.fromEntries(running.map((service) => [`SUBGRAPH_${service.name.toUpperCase()}_URL`, service.url]));
  const authService = running.find((service) => service.name === (env.AUTH_SUBGRAPH_NAME ?? 'auth'));
  if (!authService) throw new Error('supergraph.yaml lists no auth subgraph in this repository');
  const jwksUrl = authService.url.replace('/graphql', '/.well-known/jwks.json');
  const gatewayConfig = loadGatewayConfig({
    AUTH_JWKS_URL: jwksUrl,
    ...subgraphUrls,
    ...env,
    PORT: env.GATEWAY_PORT ?? env.PORT ?? '4000',
    METRICS_PORT: env.GATEWAY_METRICS_PORT ?? env.METRICS_PORT ?? '9400',
  });
  const gateway = await createGateway({ config: gatewayConfig, revocationBus, eventBus });
  const url = await gateway.start();

  const tenants = DEMO_TENANTS.map(
    (tenant) =>
      `    ${tenant.slug}: ${Object.values(tenant.users)
        .map((user) => user.email)
        .join(', ')}`,
  ).join('\n');
  console.log(`
Gatehouse is running.
  GraphQL gateway   ${url}   (Apollo Sandbox: open it in a browser)
  Explorer          ${url.replace(/\/graphql$/, '/explorer')}   (GraphiQL, works offline)
${running.map((service) => `  ${`${service.name} subgraph`.padEnd(17)} ${service.url}   (called by the gateway only)`).join('\n')}
  JWKS              ${jwksUrl}
  Metrics           ${[gateway.metricsUrl, ...running.map((service) => service.metricsUrl)].join('  ')}

Demo logins (password "${DEMO_PASSWORD}", development only):
${tenants}
  The admins have an authenticator enrolled: answer their TwoFactorChallenge with a code for the secret
  ${DEMO_TOTP_SECRET} (any TOTP app, or: npx tsx scripts/totpCode.ts).
`);

  closeOnSignals(async () => {
    await gateway.close();
    for (const service of running.reverse()) await closeGracefully(service.app);
    await closePool();
  }, gateway.app.log);
}

main().catch((error: Error) => {
  console.error(error.name === 'ConfigError' ? error.message : error);
  process.exit(1);
});
