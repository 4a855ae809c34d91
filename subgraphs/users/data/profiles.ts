import { keysetCondition, type PageRequest, type Tx } from '../../kit';

export interface ProfileRow {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  created_at: Date;
}

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
}

// Every statement names its tenant; row-level security enforces the same rule underneath.
/** The profiles of `ids` in the tenant, in any order (one statement for a whole batch of references). */
export async function findProfiles(tx: Tx, tenantId: string, ids: readonly string[]): Promise<ProfileRow[]> {
  const { rows } = await tx.query<ProfileRow>(
    'SELECT id, tenant_id, email, display_name, created_at FROM users.profiles WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND disabled_at IS NULL',
    [tenantId, ids],
  );
  return rows;
}

export async function listProfiles(tx: Tx, tenantId: string, page: PageRequest): Promise<ProfileRow[]> {
  const keyset = keysetCondition(page, 3);
  const { rows } = await tx.query<ProfileRow>(
    `SELECT id, tenant_id, email, display_name, created_at FROM users.profiles
      WHERE tenant_id = $1 AND disabled_at IS NULL AND ${keyset.sql}
      ORDER BY created_at, id LIMIT $2`,
    [tenantId, page.limit + 1, ...keyset.params],
  );
  return rows;
}

export async function findTenants(tx: Tx, ids: readonly string[]): Promise<TenantRow[]> {
  const { rows } = await tx.query<TenantRow>('SELECT id, slug, name FROM users.tenants WHERE id = ANY($1::uuid[])', [ids]);
  return rows;
}

/** Creates a profile; null when the email is already taken in the tenant. */
export async function insertProfile(
  tx: Tx,
  values: { id: string; tenantId: string; email: string; displayName: string },
): Promise<ProfileRow | null> {
  const { rows } = await tx.query<ProfileRow>(
    `INSERT INTO users.profiles (id, tenant_id, email, display_name) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING id, tenant_id, email, display_name, created_at`,
    [values.id, values.tenantId, values.email, values.displayName],
  );
  return rows[0] ?? null;
}
