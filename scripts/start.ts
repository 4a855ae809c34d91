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
  openEmbeddedPool,
  openPool,
  serveSubgraph,
  type RunningSubgraph,
} from '../subgraphs/kit';
import * as auth from '../subgraphs/auth/subgraph';
import { loadConfig as loadAuthConfig } from '../subgraphs/auth/config';
import * as users from '../subgraphs/users/subgraph';
import { loadConfig as loadUsersConfig } from '../subgraphs/users/config';
import * as records from '../subgraphs/records/subgraph';
import { loadConfig as loadRecordsConfig } from '../subgraphs/records/config';
import * as complaints from '../subgraphs/complaints/subgraph';
import { loadConfig as loadComplaintsConfig } from '../subgraphs/complaints/config';

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

  // Without Redis, the auth service and the gateway share revocations in memory (they run in this one process).
  const authConfig = loadAuthConfig(withPort('AUTH', 4001));
  const revocationBus = env.REDIS_URL ? undefined : auth.createRevocationBus(authConfig);
  const running: RunningSubgraph[] = [];
  running.push(await serveSubgraph(auth, authConfig, { pool, shared: { revocationBus } }));
  running.push(await serveSubgraph(users, loadUsersConfig(withPort('USERS', 4002)), { pool }));
  running.push(await serveSubgraph(records, loadRecordsConfig(withPort('RECORDS', 4003)), { pool }));
  running.push(await serveSubgraph(complaints, loadComplaintsConfig(withPort('COMPLAINTS', 4004)), { pool }));

  const subgraphUrls = Object.fromEntries(
    running.map((service, i) => [`SUBGRAPH_${['AUTH', 'USERS', 'RECORDS', 'COMPLAINTS'][i]}_URL`, service.url]),
  );
  const jwksUrl = running[0].url.replace('/graphql', '/.well-known/jwks.json');
  const gatewayConfig = loadGatewayConfig({
    AUTH_JWKS_URL: jwksUrl,
    ...subgraphUrls,
    ...env,
    PORT: env.GATEWAY_PORT ?? env.PORT ?? '4000',
    METRICS_PORT: env.GATEWAY_METRICS_PORT ?? env.METRICS_PORT ?? '9400',
  });
  const gateway = await createGateway({ config: gatewayConfig, revocationBus });
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
${running.map((service) => `  subgraph ${service.url.padEnd(34)} (called by the gateway only)`).join('\n')}
  JWKS              ${jwksUrl}
  Metrics           ${[gateway.metricsUrl, ...running.map((service) => service.metricsUrl)].join('  ')}

Demo logins (password "${DEMO_PASSWORD}", development only):
${tenants}
  The admins have an authenticator enrolled: answer their TwoFactorChallenge with a code for the secret
  ${auth.DEMO_TOTP_SECRET} (any TOTP app, or: npx tsx scripts/totpCode.ts).
`);

  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      if (closing) return;
      closing = true;
      await gateway.close();
      for (const service of running.reverse()) await closeGracefully(service.app);
      await closePool();
    });
  }
}

main().catch((error: Error) => {
  console.error(error.name === 'ConfigError' ? error.message : error);
  process.exit(1);
});
