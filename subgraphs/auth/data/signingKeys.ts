import type pg from 'pg';
import type { JWK } from 'jose';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: JWK;
  private_key_encrypted: string;
  signs_from: Date;
  unpublish_at: Date | null;
}

// Signing keys are the service's own, not tenant data: read and written through the owner's pool.
export async function listPublishedKeys(pool: pg.Pool, now: Date): Promise<SigningKeyRow[]> {
  const { rows } = await pool.query<SigningKeyRow>(
    `SELECT kid, alg, public_jwk, private_key_encrypted, signs_from, unpublish_at FROM auth.signing_keys
      WHERE unpublish_at IS NULL OR unpublish_at > $1 ORDER BY signs_from DESC, created_at DESC`,
    [now],
  );
  return rows;
}

export async function insertKey(
  pool: pg.Pool,
  key: { kid: string; alg: string; publicJwk: JWK; privateKeyEncrypted: string; signsFrom: Date },
  retireOthersAt: Date | null,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (retireOthersAt) {
      await client.query('UPDATE auth.signing_keys SET unpublish_at = $1 WHERE unpublish_at IS NULL OR unpublish_at > $1', [
        retireOthersAt,
      ]);
    }
    await client.query(
      'INSERT INTO auth.signing_keys (kid, alg, public_jwk, private_key_encrypted, signs_from) VALUES ($1, $2, $3, $4, $5)',
      [key.kid, key.alg, key.publicJwk, key.privateKeyEncrypted, key.signsFrom],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
