import type pg from 'pg';
import type { PublishedSigningKey } from '../../auth';
import type { AuthConfig } from './config';
import { insertAudit } from './data/audit';
import { createKeyStore } from './keyStore';
import { loadSecretBox } from './secretBox';

/**
 * Adds a signing key (published now, signing after KEY_ACTIVATION_DELAY_SECONDS) and audits it as KEY_ROTATED, a
 * service event without a tenant. `pool` is the owner's connection to the auth schema (already migrated).
 */
export async function rotateSigningKey(pool: pg.Pool, config: AuthConfig): Promise<PublishedSigningKey> {
  const keys = createKeyStore({
    pool,
    secretBox: await loadSecretBox(config),
    activationDelaySeconds: config.KEY_ACTIVATION_DELAY_SECONDS,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    algorithm: config.ACCESS_TOKEN_ALG,
  });
  await keys.init();
  const key = await keys.rotate();
  // Written by the owner, outside row-level security: the event belongs to no tenant.
  await insertAudit(pool, { tenantId: null, event: 'KEY_ROTATED', outcome: 'SUCCESS', reason: key.kid });
  return key;
}
