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
import { describeStartupFailure, type StartupContext } from '../service/startupError';
import { lockDataDir } from '../subgraphs/kit/lockDataDir';
import { localSubgraphs } from './localSubgraphs';
import { loadStackPorts, type ServicePorts } from './stackPorts';

const env = process.env;
/** What a failure names: the service being started, and the variables that set its ports and database. */
let context: StartupContext = { service: 'npm start' };
const database = { variable: 'DATABASE_URL', url: env.DATABASE_URL };
/** One service's environment: its own PORT and METRICS_PORT (PORT_BASE, AUTH_PORT, AUTH_METRICS_PORT, …). */
const withPorts = (ports: ServicePorts) => ({ ...env, PORT: String(ports.port), METRICS_PORT: String(ports.metricsPort) });
const portVariables = (ports: ServicePorts) => ({ [ports.metricsPort]: ports.variables.metricsPort, [ports.port]: ports.variables.port });

async function main() {
  // Every subgraph of supergraph.yaml that lives in this repository, and every port, before anything is opened.
  const subgraphs = localSubgraphs();
  const ports = loadStackPorts(env, subgraphs);
  const dataDir = env.DATA_DIR ?? '.data';
  let pool: pg.Pool;
  let closePool: () => Promise<void>;
  if (env.DATABASE_URL) {
    pool = openPool(env.DATABASE_URL, 20, (error) =>
      console.warn(`database: an idle connection failed (${error.message}); the pool dropped it`),
    );
    closePool = () => pool.end();
  } else {
    const dir = join(dataDir, 'pglite');
    const lock = await lockDataDir(dir);
    console.log(`Starting the embedded Postgres (PGlite) in ${dir} …`);
    const embedded = await openEmbeddedPool(dir);
    pool = embedded.pool;
    closePool = async () => {
      await embedded.close();
      await lock.release();
    };
  }

  // Without Redis, the auth service and the gateway share revocations in memory (they run in this one process).
  const revocationBus: RevocationBus | undefined = env.REDIS_URL
    ? undefined
    : createMemoryRevocationBus({ retentionMs: Number(env.REVOCATION_RETENTION_SECONDS ?? 3600) * 1000 });
  // Likewise the complaints subgraph's events and the gateway's subscriptions.
  const eventBus = env.REDIS_URL ? undefined : createMemoryEventBus();
  const running: Array<RunningSubgraph & { name: string }> = [];
  for (const subgraph of subgraphs) {
    const planned = ports.subgraphs[subgraph.name];
    context = { service: subgraph.name, ports: portVariables(planned), database };
    const config = subgraph.loadConfig(withPorts(planned));
    running.push({ name: subgraph.name, ...(await serveSubgraph(subgraph.module, config, { pool, shared: { revocationBus, eventBus } })) });
  }

  const subgraphUrls = Object.fromEntries(running.map((service) => [`SUBGRAPH_${service.name.toUpperCase()}_URL`, service.url]));
  const authService = running.find((service) => service.name === (env.AUTH_SUBGRAPH_NAME ?? 'auth'));
  if (!authService) throw new Error('supergraph.yaml lists no auth subgraph in this repository');
  const jwksUrl = authService.url.replace('/graphql', '/.well-known/jwks.json');
  context = { service: 'gateway', ports: portVariables(ports.gateway) };
  const gatewayConfig = loadGatewayConfig({ AUTH_JWKS_URL: jwksUrl, ...subgraphUrls, ...withPorts(ports.gateway) });
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

main().catch((error: unknown) => {
  console.error(describeStartupFailure(error, context));
  process.exit(1);
});
