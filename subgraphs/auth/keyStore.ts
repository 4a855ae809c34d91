import type pg from 'pg';
import type { JWK } from 'jose';
import {
  DEFAULT_ACCESS_TOKEN_ALGORITHM,
  generateSigningKey,
  importSigningKey,
  type AccessTokenAlgorithm,
  type PublishedSigningKey,
  type SecretBox,
} from '../../auth';
import { insertKey, listPublishedKeys } from './data/signingKeys';

export interface KeyStoreOptions {
  pool: pg.Pool;
  secretBox: SecretBox;
  /** A new key is published this long before it signs anything, so every gateway has fetched it by then. */
  activationDelaySeconds: number;
  /** The longest an access token lives: an old key stays published this long (plus a margin) after it stops signing. */
  accessTokenTtlSeconds: number;
  /** The algorithm of keys this store creates (ACCESS_TOKEN_ALG); existing keys keep theirs. Default PS256. */
  algorithm?: AccessTokenAlgorithm;
  /** How often the key set is re-read from the database (rotation may happen in another process). */
  reloadMs?: number;
  now?: () => number;
}

const RETIREMENT_MARGIN_SECONDS = 300;

/**
 * The auth service's signing keys, kept in Postgres with the private half encrypted at rest. Answers the key that
 * signs now (the newest whose activation time has passed) and the set to publish (every key that signs, will sign,
 * or signed a token that has not yet expired).
 */
export function createKeyStore(options: KeyStoreOptions) {
  const now = options.now ?? Date.now;
  const reloadMs = options.reloadMs ?? 10_000;
  let keys: Array<PublishedSigningKey & { signsFrom: number }> = [];
  let loadedAt = 0;
  let loading: Promise<void> | undefined;

  async function load() {
    const rows = await listPublishedKeys(options.pool, new Date(now()));
    keys = await Promise.all(
      rows.map(async (row) => ({
        ...(await importSigningKey(options.secretBox.open(row.private_key_encrypted, row.kid), row.alg as PublishedSigningKey['alg'])),
        signsFrom: row.signs_from.getTime(),
      })),
    );
    loadedAt = now();
  }

  function refresh(): Promise<void> {
    loading ??= load().finally(() => (loading = undefined));
    return loading;
  }

  async function addKey(signsFrom: number, retireOthers: boolean): Promise<PublishedSigningKey> {
    const key = await generateSigningKey(options.algorithm ?? DEFAULT_ACCESS_TOKEN_ALGORITHM);
    const retireAt = retireOthers ? new Date(signsFrom + (options.accessTokenTtlSeconds + RETIREMENT_MARGIN_SECONDS) * 1000) : null;
    await insertKey(
      options.pool,
      {
        kid: key.kid,
        alg: key.alg,
        publicJwk: key.publicJwk,
        privateKeyEncrypted: options.secretBox.seal(key.privatePem, key.kid),
        signsFrom: new Date(signsFrom),
      },
      retireAt,
    );
    await load();
    return key;
  }

  return {
    /** Loads the keys; creates the first one (signing at once) on an empty store. */
    async init(): Promise<void> {
      await load();
      if (!keys.length) await addKey(now(), false);
    },
    /** The key that signs now. Triggers a background reload when the cached set is old. */
    current(): PublishedSigningKey {
      if (now() - loadedAt > reloadMs) void refresh().catch(() => undefined);
      const at = now();
      const active = keys.find((key) => key.signsFrom <= at);
      if (!active) throw new Error('No signing key is active');
      return active;
    },
    /** The public keys to publish in the JWKS. */
    published(): JWK[] {
      if (now() - loadedAt > reloadMs) void refresh().catch(() => undefined);
      return keys.map((key) => key.publicJwk);
    },
    /**
     * Adds a new key: published at once, signing after the activation delay; every older key stays published
     * until the last token it can have signed has expired. Returns the new key.
     */
    rotate(): Promise<PublishedSigningKey> {
      return addKey(now() + options.activationDelaySeconds * 1000, true);
    },
    reload: refresh,
  };
}
export type KeyStore = ReturnType<typeof createKeyStore>;
