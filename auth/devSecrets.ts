import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Development only: reads a secret kept in a file, creating it (32 random bytes, base64url, mode 0600) on first
 * use. Several processes may race to create it; the first write wins and the others read it.
 * Production configuration never calls this (loadConfig requires configured secrets there).
 */
export async function loadOrCreateDevSecret(
  file: string,
  create: () => Promise<string> | string = () => randomBytes(32).toString('base64url'),
): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const value = await create();
  try {
    await writeFile(file, value, { flag: 'wx', mode: 0o600 });
    return value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readFile(file, 'utf8')).trim();
  }
}

/** Where the development context master secret lives inside DATA_DIR. */
export const DEV_CONTEXT_SECRET_FILE = 'dev-context-secret';
