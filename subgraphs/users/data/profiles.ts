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
export async function findProfile(tx: Tx, tenantId: string, id: string): Promise<ProfileRow | null> {
  const { rows } = await tx.query<ProfileRow>(
    'SELECT id, tenant_id, email, display_name, created_at FROM users.profiles WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL',
    [tenantId, id],
  );
  return rows[0] ?? null;
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

export async function findTenant(tx: Tx, tenantId: string): Promise<TenantRow | null> {
  const { rows } = await tx.query<TenantRow>('SELECT id, slug, name FROM users.tenants WHERE id = $1', [tenantId]);
  return rows[0] ?? null;
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
