import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
/** The full GCM tag. Without pinning it, Node accepts a tag cut down to 4 bytes, which a forger can guess. */
const TAG_BYTES = 16;

/**
 * Encrypts secrets at rest (private signing keys, TOTP secrets) with AES-256-GCM. `context` is bound as additional
 * data (e.g. the key id or the user id), so a sealed value cannot be moved to another row. `key` is 32 bytes, or
 * base64url text of them. Throws TypeError on a bad key; `open` throws on tampering.
 */
export function createSecretBox(key: string | Buffer) {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'base64url') : key;
  if (bytes.length !== 32) throw new TypeError('createSecretBox: the key must be 32 bytes');
  return {
    seal(plaintext: string, context: string): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', bytes, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed: string, context: string): string {
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== VERSION || !iv || !body || !tag) throw new Error('Sealed value has an unknown format');
      const ivBytes = Buffer.from(iv, 'base64url');
      const tagBytes = Buffer.from(tag, 'base64url');
      if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new Error('Sealed value has an unknown format');
      const decipher = createDecipheriv('aes-256-gcm', bytes, ivBytes, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(context));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
export type SecretBox = ReturnType<typeof createSecretBox>;
