import type { Tx } from '../../kit';

export interface TotpFactorRow {
  user_id: string;
  secret_encrypted: string;
  confirmed_at: Date | null;
  last_time_step: string | null;
}

export interface ChallengeRow {
  tenant_id: string;
  user_id: string;
  refresh_delivery: 'BODY' | 'COOKIE';
  failed_attempts: number;
  expires_at: Date;
}

export async function findFactor(tx: Tx, tenantId: string, userId: string, forUpdate = false): Promise<TotpFactorRow | null> {
  const { rows } = await tx.query<TotpFactorRow>(
    `SELECT user_id, secret_encrypted, confirmed_at, last_time_step FROM auth.totp_factors WHERE tenant_id = $1 AND user_id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, userId],
  );
  return rows[0] ?? null;
}

export async function upsertPendingFactor(tx: Tx, tenantId: string, userId: string, secretEncrypted: string): Promise<void> {
  await tx.query(
    `INSERT INTO auth.totp_factors (user_id, tenant_id, secret_encrypted) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET secret_encrypted = EXCLUDED.secret_encrypted, confirmed_at = NULL, last_time_step = NULL, created_at = now()`,
    [userId, tenantId, secretEncrypted],
  );
}

export async function recordFactorUse(tx: Tx, tenantId: string, userId: string, timeStep: number, confirm: boolean): Promise<void> {
  await tx.query(
    `UPDATE auth.totp_factors SET last_time_step = $3${confirm ? ', confirmed_at = COALESCE(confirmed_at, now())' : ''} WHERE tenant_id = $1 AND user_id = $2`,
    [tenantId, userId, timeStep],
  );
}

export async function deleteFactor(tx: Tx, tenantId: string, userId: string): Promise<void> {
  await tx.query('DELETE FROM auth.totp_factors WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
}

export async function insertChallenge(
  tx: Tx,
  values: { idHash: Buffer; tenantId: string; userId: string; delivery: 'BODY' | 'COOKIE'; expiresAt: Date },
): Promise<void> {
  await tx.query(
    'INSERT INTO auth.login_challenges (id_hash, tenant_id, user_id, refresh_delivery, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [values.idHash, values.tenantId, values.userId, values.delivery, values.expiresAt],
  );
}

/** The challenge, locked: parallel code attempts on one challenge queue here, so the attempt limit holds. */
export async function lockChallenge(tx: Tx, tenantId: string, idHash: Buffer): Promise<ChallengeRow | null> {
  const { rows } = await tx.query<ChallengeRow>(
    'SELECT tenant_id, user_id, refresh_delivery, failed_attempts, expires_at FROM auth.login_challenges WHERE tenant_id = $1 AND id_hash = $2 FOR UPDATE',
    [tenantId, idHash],
  );
  return rows[0] ?? null;
}

export async function countChallengeFailure(tx: Tx, tenantId: string, idHash: Buffer): Promise<number> {
  const { rows } = await tx.query<{ failed_attempts: number }>(
    'UPDATE auth.login_challenges SET failed_attempts = failed_attempts + 1 WHERE tenant_id = $1 AND id_hash = $2 RETURNING failed_attempts',
    [tenantId, idHash],
  );
  return rows[0]?.failed_attempts ?? 0;
}

export async function deleteChallenge(tx: Tx, tenantId: string, idHash: Buffer): Promise<void> {
  await tx.query('DELETE FROM auth.login_challenges WHERE tenant_id = $1 AND id_hash = $2', [tenantId, idHash]);
}
