/**
 * npm run keys:rotate
 *   Adds a new signing key to the auth service's key store (DATABASE_URL, or the embedded database in DATA_DIR —
 *   stop `npm start` first, PGlite is one process). The key is published at once and signs only after
 *   KEY_ACTIVATION_DELAY_SECONDS; older keys stay published until every token they signed has expired.
 */
import { join } from 'node:path';
import { loadConfig } from '../subgraphs/auth/config';
import { createKeyStore } from '../subgraphs/auth/keyStore';
import { loadSecretBox } from '../subgraphs/auth/secretBox';
import { migrate, openEmbeddedPool, openPool } from '../subgraphs/kit';
import { insertAudit } from '../subgraphs/auth/data/audit';
import * as auth from '../subgraphs/auth/subgraph';

async function main() {
  const config = loadConfig(process.env);
  const embedded = config.DATABASE_URL ? undefined : await openEmbeddedPool(join(config.DATA_DIR, process.env.PGLITE_DIR ?? 'pglite'));
  const pool = embedded?.pool ?? openPool(config.DATABASE_URL!);
  try {
    await migrate(pool, { schema: 'auth', dir: auth.migrationsDir });
    const keys = createKeyStore({
      pool,
      secretBox: await loadSecretBox(config),
      activationDelaySeconds: config.KEY_ACTIVATION_DELAY_SECONDS,
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    });
    await keys.init();
    const key = await keys.rotate();
    // A service event, not a tenant's: written by the owner, outside row-level security.
    await insertAudit(pool, { tenantId: null, event: 'KEY_ROTATED', outcome: 'SUCCESS', reason: key.kid });
    console.log(`New signing key ${key.kid}: published now, signing in ${config.KEY_ACTIVATION_DELAY_SECONDS} s.`);
  } finally {
    if (embedded) await embedded.close();
    else await pool.end();
  }
}

main().catch((error: Error) => {
  console.error(error.name === 'ConfigError' ? error.message : error);
  process.exit(1);
});
