import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, exportPKCS8, generateKeyPair, importPKCS8, type JWK } from 'jose';
import { DEFAULT_ACCESS_TOKEN_ALGORITHM, type AccessTokenAlgorithm, type SigningKey } from './issueAccessToken';

/** A signing key with the public half as published in the JWKS. */
export interface PublishedSigningKey extends SigningKey {
  publicJwk: JWK;
  /** PKCS#8 PEM of the private key, for persistence. Never logged, never sent. */
  privatePem: string;
}

/** Generates a new signing key (RSA keys: 2048 bits); its kid is the RFC 7638 thumbprint of the public key. */
export async function generateSigningKey(alg: AccessTokenAlgorithm = DEFAULT_ACCESS_TOKEN_ALGORITHM): Promise<PublishedSigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return importSigningKey(await exportPKCS8(privateKey), alg);
}

/** Loads a signing key from a PKCS#8 PEM (as written by generateSigningKey or openssl). */
export async function importSigningKey(privatePem: string, alg: AccessTokenAlgorithm): Promise<PublishedSigningKey> {
  const privateKey = await importPKCS8(privatePem, alg, { extractable: true });
  const publicKeyObject = createPublicKey(createPrivateKey(privatePem));
  const publicJwk = publicKeyObject.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { kid, alg, privateKey, privatePem, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

/** A short, non-reversible fingerprint of secret material, safe to log. */
export function fingerprint(secret: string | Buffer): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 10);
}
