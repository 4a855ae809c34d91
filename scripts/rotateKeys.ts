/**
 * npm run keys:rotate
 *   Adds a new signing key to the auth service's key store (DATABASE_URL, or the embedded database in DATA_DIR —
 *   stop `npm start` first, PGlite is one process). The key is published at once and signs only after
 *   KEY_ACTIVATION_DELAY_SECONDS; older keys stay published until every token they signed has expired.
 */
import { join } from 'node:path';
import { loadConfig } from '../subgraphs/auth/config';
import { rotateSigningKey } from '../subgraphs/auth/rotateSigningKey';
import * as auth from '../subgraphs/auth/subgraph';
import { migrate, openEmbeddedPool, openPool } from '../subgraphs/kit';

async function main() {
  const config = loadConfig(process.env);
  const embedded = config.DATABASE_URL ? undefined : await openEmbeddedPool(join(config.DATA_DIR, 'pglite'));
  const pool = embedded?.pool ?? openPool(config.DATABASE_URL!);
  try {
    await migrate(pool, { schema: 'auth', dir: auth.migrationsDir });
    const key = await rotateSigningKey(pool, config);
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
