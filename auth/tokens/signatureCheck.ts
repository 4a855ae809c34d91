import { KeyObject, constants, verify, type webcrypto } from 'node:crypto';
import type { AccessTokenAlgorithm } from './issueAccessToken';

/** Checks a JWS signature over `signingInput` (the ASCII bytes of `header.payload`): true when it holds. */
export type SignatureCheck = (signingInput: Buffer, signature: Buffer) => boolean;

const RSA_MIN_BITS = 2048;
const CURVES: Partial<Record<AccessTokenAlgorithm, string>> = { ES256: 'prime256v1', ES384: 'secp384r1' };

/**
 * A synchronous node:crypto check of one key's JWS signatures, made once per key: jose v6 verifies through WebCrypto,
 * whose asynchronous calls cost a new token far more than the RSA or ECDSA arithmetic does. The key must suit the
 * algorithm exactly as jose requires (RSA of at least 2048 bits for RS256/PS256, the named curve for ES*, an Edwards
 * curve for EdDSA); otherwise this throws TypeError and the key is not used.
 */
export function createSignatureCheck(alg: AccessTokenAlgorithm, key: webcrypto.CryptoKey | object): SignatureCheck {
  // jose's KeyObject type is node:crypto's KeyObject at run time.
  const keyObject = key instanceof KeyObject ? key : KeyObject.from(key as webcrypto.CryptoKey);
  if (keyObject.type !== 'public') throw new TypeError(`createSignatureCheck: a public key is required, got a ${keyObject.type} key`);
  const type = keyObject.asymmetricKeyType;
  const details = keyObject.asymmetricKeyDetails ?? {};
  const safely = (check: () => boolean) => {
    try {
      return check();
    } catch {
      // A signature of the wrong length or encoding for this key is a signature that does not verify.
      return false;
    }
  };
  switch (alg) {
    case 'RS256':
    case 'PS256': {
      if (type !== 'rsa' || (details.modulusLength ?? 0) < RSA_MIN_BITS)
        throw new TypeError(`createSignatureCheck: ${alg} needs an RSA key of at least ${RSA_MIN_BITS} bits`);
      const options =
        alg === 'PS256'
          ? { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
          : { key: keyObject, padding: constants.RSA_PKCS1_PADDING };
      return (signingInput, signature) => safely(() => verify('sha256', signingInput, options, signature));
    }
    case 'ES256':
    case 'ES384': {
      if (type !== 'ec' || details.namedCurve !== CURVES[alg])
        throw new TypeError(`createSignatureCheck: ${alg} needs an EC key on ${CURVES[alg]}`);
      const hash = alg === 'ES256' ? 'sha256' : 'sha384';
      // JWS carries ECDSA signatures as r || s (IEEE P1363), not DER.
      const options = { key: keyObject, dsaEncoding: 'ieee-p1363' as const };
      return (signingInput, signature) => safely(() => verify(hash, signingInput, options, signature));
    }
    case 'EdDSA': {
      if (type !== 'ed25519' && type !== 'ed448') throw new TypeError('createSignatureCheck: EdDSA needs an Ed25519 or Ed448 key');
      return (signingInput, signature) => safely(() => verify(null, signingInput, keyObject, signature));
    }
    default:
      throw new TypeError(`createSignatureCheck: unsupported algorithm ${alg as string}`);
  }
}
