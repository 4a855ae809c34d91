import { createHash, randomBytes } from 'node:crypto';

const UUID_BYTES = /^[0-9a-f]{32}$/;

/**
 * Opaque tokens (refresh tokens, challenge ids): the tenant's id and 256 random bits, base64url. Only a SHA-256 hash
 * is stored. The tenant part lets an anonymous call find the row under row-level security; it grants nothing.
 */
export function newOpaqueToken(tenantId: string): { token: string; hash: Buffer } {
  const tenant = Buffer.from(tenantId.replace(/-/g, ''), 'hex').toString('base64url');
  const token = `${tenant}.${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashOpaqueToken(token) };
}

export function hashOpaqueToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The tenant and hash of a token we issued, or null for anything that cannot be one. */
export function parseOpaqueToken(token: unknown): { tenantId: string; hash: Buffer } | null {
  if (typeof token !== 'string' || token.length > 128) return null;
  const [tenant, secret, extra] = token.split('.');
  if (!tenant || !secret || extra !== undefined || Buffer.from(secret, 'base64url').length !== 32) return null;
  const hex = Buffer.from(tenant, 'base64url').toString('hex');
  if (!UUID_BYTES.test(hex)) return null;
  const tenantId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { tenantId, hash: hashOpaqueToken(token) };
}
