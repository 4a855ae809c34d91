import { join } from 'node:path';
import { createSecretBox, loadOrCreateDevSecret, type SecretBox } from '../../auth';
import type { AuthConfig } from './config';

export const DEV_ENCRYPTION_KEY_FILE = 'auth-key-encryption-key';

/**
 * The box that encrypts signing keys and TOTP secrets at rest: AUTH_KEY_ENCRYPTION_KEY, or in development a key
 * generated once and kept in DATA_DIR.
 */
export async function loadSecretBox(config: AuthConfig): Promise<SecretBox> {
  const key = config.AUTH_KEY_ENCRYPTION_KEY ?? (await loadOrCreateDevSecret(join(config.DATA_DIR, DEV_ENCRYPTION_KEY_FILE)));
  return createSecretBox(key);
}
