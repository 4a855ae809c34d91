import type { Tx } from '../../kit';

export interface CredentialRow {
  user_id: string;
  tenant_id: string;
  password_hash: string;
  roles: string[];
  disabled_at: Date | null;
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

export async function findEmail(tx: Tx, tenantId: string, userId: string): Promise<string | null> {
  const { rows } = await tx.query<{ email: string }>('SELECT email FROM auth.credentials WHERE tenant_id = $1 AND user_id = $2', [
    tenantId,
    userId,
  ]);
  return rows[0]?.email ?? null;
}

/** Changes a user's roles; returns false when no such user is in the tenant. */
export async function updateRoles(tx: Tx, tenantId: string, userId: string, roles: string[]): Promise<boolean> {
  const { rowCount } = await tx.query('UPDATE auth.credentials SET roles = $3 WHERE tenant_id = $1 AND user_id = $2', [
    tenantId,
    userId,
    roles,
  ]);
  return rowCount === 1;
}

/** Disables or re-enables a user; returns false when no such user is in the tenant. */
export async function updateDisabled(tx: Tx, tenantId: string, userId: string, disabled: boolean): Promise<boolean> {
  const { rowCount } = await tx.query(
    'UPDATE auth.credentials SET disabled_at = CASE WHEN $3 THEN COALESCE(disabled_at, now()) ELSE NULL END WHERE tenant_id = $1 AND user_id = $2',
    [tenantId, userId, disabled],
  );
  return rowCount === 1;
}
