import { createHash, createHmac, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * The signed context the gateway forwards on every subgraph call, and its verification on the subgraph side.
 * Both sides live here and share the constants and the serializer.
 *
 * Wire format: a standard compact JWS (RFC 7515), alg HS256, typ `gatehouse-ctx+jwt`, so a subgraph in any
 * language can check it with any JOSE library. Each subgraph gets its own key, derived from the gateway's master
 * secret with HKDF-SHA256 and the subgraph's name: the key a subgraph holds verifies contexts made for it and
 * cannot make contexts for any other subgraph. `aud` is the subgraph's name as well.
 *
 * Each context is made for one subgraph call: its `bh` claim is the SHA-256 of that call's body, so a captured
 * header cannot be replayed with another query or other variables.
 */
export const CONTEXT_HEADER = 'gatehouse-context';
export const CONTEXT_TYP = 'gatehouse-ctx+jwt';
export const CONTEXT_ISSUER = 'gatehouse-gateway';
export const CONTEXT_MAX_TTL_SECONDS = 60;
const HKDF_SALT = 'gatehouse/context/v1';
const MIN_SECRET_BYTES = 32;

/** The caller, as the gateway verified it. */
export interface ContextUser {
  id: string;
  tenantId: string;
  roles: readonly string[];
  /** What the caller may do: the scopes of their roles (from the roles file) and any an external provider granted. */
  scopes: readonly string[];
  sessionId: string;
  authTime?: number;
  amr?: readonly string[];
  /** Set when an external identity provider issued the token (absent for Gatehouse's own auth service). */
  issuer?: string;
}

export interface ForwardedContext {
  /** Null for an anonymous caller. */
  user: ContextUser | null;
  clientAddress: string;
  requestId: string;
  /**
   * The client's Idempotency-Key, on a mutation of a signed-in caller only (claim `idk`): the subgraph answers a retry
   * with the same key, caller and body from what it stored with the write.
   */
  idempotencyKey?: string;
  /**
   * On a mutation: the references to other subgraphs' objects that the gateway looked up as the caller and found,
   * as `lookup:id` (claim `refs`; see `@references`). A subgraph refuses any reference not named here.
   */
  references?: readonly string[];
}

/** What an Idempotency-Key may be: 1 to 255 visible ASCII characters (a UUID, typically). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export type ContextRejectionReason =
  | 'context_missing'
  | 'context_malformed'
  | 'context_signature_invalid'
  | 'context_wrong_audience'
  | 'context_expired'
  | 'context_claims_invalid'
  | 'context_body_mismatch';

export class ContextTokenError extends Error {
  constructor(readonly reason: ContextRejectionReason) {
    super(`Forwarded context refused: ${reason}`);
    this.name = 'ContextTokenError';
  }
}

function secretBytes(secret: string | Buffer, who: string): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'base64url') : secret;
  if (bytes.length < MIN_SECRET_BYTES) throw new TypeError(`${who}: the secret must hold at least ${MIN_SECRET_BYTES} bytes (base64url)`);
  return bytes;
}

/**
 * Derives the key one subgraph (`audience`) uses to verify its contexts from the gateway's master secret.
 * `masterSecret` is base64url text or raw bytes, at least 32 bytes. Returns 32 bytes.
 */
export function deriveContextKey(masterSecret: string | Buffer, audience: string): Buffer {
  if (!audience) throw new TypeError('deriveContextKey: "audience" is required');
  const master = secretBytes(masterSecret, 'deriveContextKey');
  return Buffer.from(hkdfSync('sha256', master, HKDF_SALT, `audience:${audience}`, 32));
}

/** base64url SHA-256 of a request body: the `bh` claim. */
export function hashBody(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64url');
}

const HEADER_SEGMENT = Buffer.from(JSON.stringify({ alg: 'HS256', typ: CONTEXT_TYP })).toString('base64url');

function mac(key: Buffer, signingInput: string): Buffer {
  return createHmac('sha256', key).update(signingInput).digest();
}

export interface ContextSignerOptions {
  /** The gateway's master secret (base64url text or bytes, ≥ 32 bytes). */
  masterSecret: string | Buffer;
  /** Lifetime of each context; default 30, at most 60 seconds. */
  ttlSeconds?: number;
  now?: () => number;
}

/**
 * Creates the gateway-side signer. `sign(context, audience, body)` returns the compact JWS for one call to one
 * subgraph, bound to the exact body of that call. Keys per audience are derived once and kept.
 * Throws TypeError on bad options.
 */
export function createContextSigner(options: ContextSignerOptions) {
  const master = secretBytes(options.masterSecret, 'createContextSigner');
  const ttlSeconds = options.ttlSeconds ?? 30;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > CONTEXT_MAX_TTL_SECONDS) {
    throw new TypeError(`createContextSigner: "ttlSeconds" must be an integer from 1 to ${CONTEXT_MAX_TTL_SECONDS}`);
  }
  const keys = new Map<string, Buffer>();
  const keyFor = (audience: string) => {
    let key = keys.get(audience);
    if (!key) keys.set(audience, (key = deriveContextKey(master, audience)));
    return key;
  };

  return {
    sign(context: ForwardedContext, audience: string, body: string | Buffer): string {
      const iat = Math.floor(now() / 1000);
      const claims: Record<string, unknown> = {
        iss: CONTEXT_ISSUER,
        aud: audience,
        iat,
        exp: iat + ttlSeconds,
        jti: randomUUID(),
        rid: context.requestId,
        cip: context.clientAddress,
        bh: hashBody(body),
      };
      const { user } = context;
      if (user) {
        claims.sub = user.id;
        claims.tid = user.tenantId;
        claims.roles = user.roles;
        claims.scp = user.scopes.join(' ');
        claims.sid = user.sessionId;
        if (user.authTime !== undefined) claims.auth_time = user.authTime;
        if (user.amr) claims.amr = user.amr;
        if (user.issuer) claims.idp = user.issuer;
        if (context.idempotencyKey !== undefined) claims.idk = context.idempotencyKey;
        if (context.references?.length) claims.refs = context.references;
      }
      const signingInput = `${HEADER_SEGMENT}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      return `${signingInput}.${mac(keyFor(audience), signingInput).toString('base64url')}`;
    },
  };
}
export type ContextSigner = ReturnType<typeof createContextSigner>;

export interface ContextVerifierOptions {
  /** This subgraph's derived key (see deriveContextKey), base64url text or bytes. */
  key: string | Buffer;
  /** This subgraph's name: the only audience accepted. */
  audience: string;
  clockToleranceSeconds?: number;
  now?: () => number;
}

/** A header whose signature, audience and lifetime have been checked; its body binding is checked per call. */
export interface VerifiedContext {
  context: ForwardedContext;
  bodyHash: string;
  expiresAt: number;
}

const NO_SCOPES: readonly string[] = Object.freeze([]);
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/**
 * Creates the subgraph-side verifier. `verifyHeader` checks the signature, audience and lifetime; `checkBody` then
 * binds it to the call's body. `verify` does both. Nothing is cached: the gateway signs every call afresh (its own
 * jti and body hash), so a cache of verified headers would never be hit, only fill the heap; one check is one HMAC.
 * Each throws ContextTokenError (missing, malformed, bad signature, another audience, expired or over-long, bad
 * claims, another body).
 */
export function createContextVerifier(options: ContextVerifierOptions) {
  const key = secretBytes(options.key, 'createContextVerifier');
  const { audience } = options;
  const tolerance = options.clockToleranceSeconds ?? 5;
  const now = options.now ?? Date.now;
  if (!audience) throw new TypeError('createContextVerifier: "audience" is required');

  function verifyHeader(header: string | string[] | undefined): VerifiedContext {
    if (header === undefined || header === '') throw new ContextTokenError('context_missing');
    if (typeof header !== 'string' || header.length > 8192) throw new ContextTokenError('context_malformed');
    const firstDot = header.indexOf('.');
    const lastDot = header.lastIndexOf('.');
    if (firstDot <= 0 || lastDot === firstDot) throw new ContextTokenError('context_malformed');
    const signingInput = header.slice(0, lastDot);
    const signature = Buffer.from(header.slice(lastDot + 1), 'base64url');
    const expected = mac(key, signingInput);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new ContextTokenError('context_signature_invalid');
    }
    let protectedHeader: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      protectedHeader = JSON.parse(Buffer.from(header.slice(0, firstDot), 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(header.slice(firstDot + 1, lastDot), 'base64url').toString('utf8'));
    } catch {
      throw new ContextTokenError('context_malformed');
    }
    if (protectedHeader.alg !== 'HS256' || protectedHeader.typ !== CONTEXT_TYP || 'crit' in protectedHeader) {
      throw new ContextTokenError('context_malformed');
    }
    if (claims.iss !== CONTEXT_ISSUER) throw new ContextTokenError('context_claims_invalid');
    if (claims.aud !== audience) throw new ContextTokenError('context_wrong_audience');
    const { iat, exp } = claims;
    const nowSeconds = now() / 1000;
    if (typeof iat !== 'number' || typeof exp !== 'number') throw new ContextTokenError('context_claims_invalid');
    if (exp - iat > CONTEXT_MAX_TTL_SECONDS || iat > nowSeconds + tolerance) throw new ContextTokenError('context_claims_invalid');
    if (exp + tolerance <= nowSeconds) throw new ContextTokenError('context_expired');
    if (typeof claims.rid !== 'string' || typeof claims.cip !== 'string' || typeof claims.bh !== 'string') {
      throw new ContextTokenError('context_claims_invalid');
    }

    let user: ContextUser | null = null;
    if (claims.sub !== undefined) {
      if (
        typeof claims.sub !== 'string' ||
        typeof claims.tid !== 'string' ||
        typeof claims.sid !== 'string' ||
        typeof claims.scp !== 'string' ||
        !isStringArray(claims.roles)
      ) {
        throw new ContextTokenError('context_claims_invalid');
      }
      user = {
        id: claims.sub,
        tenantId: claims.tid,
        roles: Object.freeze(claims.roles),
        scopes: claims.scp === '' ? NO_SCOPES : Object.freeze(claims.scp.split(' ')),
        sessionId: claims.sid,
        ...(typeof claims.auth_time === 'number' ? { authTime: claims.auth_time } : {}),
        ...(isStringArray(claims.amr) ? { amr: Object.freeze(claims.amr) } : {}),
        ...(typeof claims.idp === 'string' ? { issuer: claims.idp } : {}),
      };
    }
    if (claims.idk !== undefined && (!user || typeof claims.idk !== 'string' || !IDEMPOTENCY_KEY.test(claims.idk))) {
      throw new ContextTokenError('context_claims_invalid');
    }
    if (claims.refs !== undefined && (!user || !isStringArray(claims.refs) || claims.refs.length > 100)) {
      throw new ContextTokenError('context_claims_invalid');
    }
    const context: ForwardedContext = { user, clientAddress: claims.cip, requestId: claims.rid };
    if (typeof claims.idk === 'string') context.idempotencyKey = claims.idk;
    if (isStringArray(claims.refs)) context.references = Object.freeze(claims.refs);
    return { context, bodyHash: claims.bh, expiresAt: exp };
  }

  function checkBody(result: VerifiedContext, bodyHash: string): ForwardedContext {
    const a = Buffer.from(result.bodyHash);
    const b = Buffer.from(bodyHash);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ContextTokenError('context_body_mismatch');
    return result.context;
  }

  return {
    verifyHeader,
    /** Binds a verified header to the body of the call it came with (`hashBody` of the raw body). */
    checkBody,
    /** Both checks at once. */
    verify(header: string | string[] | undefined, body: string | Buffer): ForwardedContext {
      return checkBody(verifyHeader(header), hashBody(body));
    },
  };
}
export type ContextVerifier = ReturnType<typeof createContextVerifier>;
