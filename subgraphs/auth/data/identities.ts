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

/** The roles of each enabled user of `userIds` in the tenant, in any order (one statement for a batch). */
export async function findRolesOf(
  tx: Tx,
  tenantId: string,
  userIds: readonly string[],
): Promise<Array<{ user_id: string; roles: string[] }>> {
  const { rows } = await tx.query<{ user_id: string; roles: string[] }>(
    'SELECT user_id, roles FROM auth.credentials WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND disabled_at IS NULL',
    [tenantId, userIds],
  );
  return rows;
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

/** Creates the credentials of an invited user; false when the email or the user is already taken in the tenant. */
export async function insertInvitedCredential(
  tx: Tx,
  values: { tenantId: string; userId: string; email: string; passwordHash: string; roles: string[] },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO auth.credentials (user_id, tenant_id, email, password_hash, roles, disabled_at) VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT DO NOTHING`,
    [values.userId, values.tenantId, values.email, values.passwordHash, values.roles],
  );
  return rowCount === 1;
}

export async function insertInvitation(
  tx: Tx,
  values: { hash: Buffer; tenantId: string; userId: string; createdBy: string; expiresAt: Date },
): Promise<void> {
  await tx.query('INSERT INTO auth.invitations (token_hash, tenant_id, user_id, created_by, expires_at) VALUES ($1, $2, $3, $4, $5)', [
    values.hash,
    values.tenantId,
    values.userId,
    values.createdBy,
    values.expiresAt,
  ]);
}

/** Spends an invitation (single use) and sets the password; answers the user's roles, or null. */
export async function acceptInvitation(
  tx: Tx,
  tenantId: string,
  hash: Buffer,
  passwordHash: string,
): Promise<{ userId: string; roles: string[] } | null> {
  const { rows } = await tx.query<{ user_id: string }>(
    `UPDATE auth.invitations SET accepted_at = now()
      WHERE tenant_id = $1 AND token_hash = $2 AND accepted_at IS NULL AND expires_at > now() RETURNING user_id`,
    [tenantId, hash],
  );
  if (!rows[0]) return null;
  const updated = await tx.query<{ roles: string[] }>(
    'UPDATE auth.credentials SET password_hash = $3, disabled_at = NULL WHERE tenant_id = $1 AND user_id = $2 RETURNING roles',
    [tenantId, rows[0].user_id, passwordHash],
  );
  return updated.rows[0] ? { userId: rows[0].user_id, roles: updated.rows[0].roles } : null;
}

/** The password hash of a user of the tenant (disabled or not), or null. */
export async function findPasswordHash(tx: Tx, tenantId: string, userId: string): Promise<string | null> {
  const { rows } = await tx.query<{ password_hash: string }>(
    'SELECT password_hash FROM auth.credentials WHERE tenant_id = $1 AND user_id = $2',
    [tenantId, userId],
  );
  return rows[0]?.password_hash ?? null;
}

/** Replaces the password hash if it is still `expected` (a concurrent change wins once); false otherwise. */
export async function replacePasswordHash(tx: Tx, tenantId: string, userId: string, expected: string, next: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    'UPDATE auth.credentials SET password_hash = $4 WHERE tenant_id = $1 AND user_id = $2 AND password_hash = $3',
    [tenantId, userId, expected, next],
  );
  return rowCount === 1;
}
