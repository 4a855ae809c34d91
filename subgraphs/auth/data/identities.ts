import type { Tx } from '../../kit';

export interface CredentialRow {
  user_id: string;
  tenant_id: string;
  password_hash: string;
  roles: string[];
  disabled_at: Date | null;
}

export interface SessionRow {
  id: string;
  tenant_id: string;
  user_id: string;
  expires_at: Date;
  revoked_at: Date | null;
}

export async function findTenantIdBySlug(tx: Tx, slug: string): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM auth.tenants WHERE slug = $1', [slug]);
  return rows[0]?.id ?? null;
}

export async function findCredentialByEmail(tx: Tx, tenantId: string, email: string): Promise<CredentialRow | null> {
  const { rows } = await tx.query<CredentialRow>(
    'SELECT user_id, tenant_id, password_hash, roles, disabled_at FROM auth.credentials WHERE tenant_id = $1 AND lower(email) = lower($2)',
    [tenantId, email],
  );
  return rows[0] ?? null;
}

export async function findRoles(tx: Tx, tenantId: string, userId: string): Promise<string[] | null> {
  const { rows } = await tx.query<{ roles: string[] }>(
    'SELECT roles FROM auth.credentials WHERE tenant_id = $1 AND user_id = $2 AND disabled_at IS NULL',
    [tenantId, userId],
  );
  return rows[0]?.roles ?? null;
}

export async function insertSession(
  tx: Tx,
  values: { tenantId: string; userId: string; amr: string[]; authTime: Date; expiresAt: Date; refreshTokenHash: Buffer },
): Promise<SessionRow> {
  const { rows } = await tx.query<SessionRow>(
    `INSERT INTO auth.sessions (tenant_id, user_id, amr, auth_time, expires_at) VALUES ($1, $2, $3, $4, $5)
     RETURNING id, tenant_id, user_id, expires_at, revoked_at`,
    [values.tenantId, values.userId, values.amr, values.authTime, values.expiresAt],
  );
  const session = rows[0];
  await tx.query('INSERT INTO auth.refresh_tokens (tenant_id, session_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)', [
    values.tenantId,
    session.id,
    values.refreshTokenHash,
    values.expiresAt,
  ]);
  return session;
}

export async function findSession(tx: Tx, tenantId: string, sessionId: string): Promise<SessionRow | null> {
  const { rows } = await tx.query<SessionRow>(
    'SELECT id, tenant_id, user_id, expires_at, revoked_at FROM auth.sessions WHERE tenant_id = $1 AND id = $2',
    [tenantId, sessionId],
  );
  return rows[0] ?? null;
}
