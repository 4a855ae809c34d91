import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';

/** What a chosen password must have (set at invitation, reset or change). */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

/**
 * Creates the password checker. For an unknown user it verifies against a hash of a random password made with
 * the same parameters, so unknown users and wrong passwords cost the same time.
 */
export async function createPasswordChecker() {
  const decoy = await hashPassword(randomBytes(32).toString('base64url'));
  return {
    async check(passwordHash: string | undefined, password: string): Promise<boolean> {
      try {
        const ok = await argon2.verify(passwordHash ?? decoy, password);
        return ok && passwordHash !== undefined;
      } catch {
        return false;
      }
    },
  };
}
