import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKey, importSigningKey, loadOrCreateDevSecret, type PublishedSigningKey } from '../../auth';
import type { AuthConfig } from './config';

export const DEV_SIGNING_KEY_FILE = 'auth-signing-key.pem';

/**
 * The key that signs access tokens: AUTH_SIGNING_KEY_FILE, or in development a key generated once and kept in
 * DATA_DIR (so tokens survive a restart).
 */
export async function loadSigningKey(config: AuthConfig): Promise<PublishedSigningKey> {
  if (config.AUTH_SIGNING_KEY_FILE) return importSigningKey(await readFile(config.AUTH_SIGNING_KEY_FILE, 'utf8'));
  const pem = await loadOrCreateDevSecret(join(config.DATA_DIR, DEV_SIGNING_KEY_FILE), async () => (await generateSigningKey()).privatePem);
  return importSigningKey(pem);
}
