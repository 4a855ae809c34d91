import { DEMO_PASSWORD, DEMO_TENANTS, type Database } from '../../kit';
import { hashPassword } from '../passwords';

/** Demo tenants and credentials (development and tests). Idempotent; hashes only for missing rows. */
export async function seed(db: Database): Promise<void> {
  for (const tenant of DEMO_TENANTS) {
    await db.pool.query('INSERT INTO auth.tenants (id, slug) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [tenant.id, tenant.slug]);
    for (const user of Object.values(tenant.users)) {
      const { rowCount } = await db.pool.query('SELECT 1 FROM auth.credentials WHERE user_id = $1', [user.id]);
      if (rowCount) continue;
      await db.pool.query(
        'INSERT INTO auth.credentials (user_id, tenant_id, email, password_hash, roles) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO NOTHING',
        [user.id, tenant.id, user.email, await hashPassword(DEMO_PASSWORD), [user.role]],
      );
    }
  }
}
