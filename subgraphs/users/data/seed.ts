import { DEMO_TENANTS, type Database } from '../../kit';

/** Demo tenants and profiles (development and tests). Idempotent. */
export async function seed(db: Database): Promise<void> {
  for (const tenant of DEMO_TENANTS) {
    await db.pool.query('INSERT INTO users.tenants (id, slug, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [
      tenant.id,
      tenant.slug,
      tenant.name,
    ]);
    let minute = 0;
    for (const user of Object.values(tenant.users)) {
      await db.pool.query(
        `INSERT INTO users.profiles (id, tenant_id, email, display_name, created_at)
         VALUES ($1, $2, $3, $4, timestamptz '2026-01-01T00:00:00Z' + make_interval(mins => $5)) ON CONFLICT (id) DO NOTHING`,
        [user.id, tenant.id, user.email, user.displayName, minute++],
      );
    }
  }
}
