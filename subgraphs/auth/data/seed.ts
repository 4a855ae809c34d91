import { DEMO_PASSWORD, DEMO_TENANTS, type Database } from '../../kit';
import type { AuthConfig } from '../config';
import { hashPassword } from '../passwords';
import { loadSecretBox } from '../secretBox';

/** The demo admins' authenticator secret (base32). Development and tests only: the README publishes it. */
export const DEMO_TOTP_SECRET = 'GATEHOUSEDEMOSECRETGATEHOUSEDEMO';

/** Demo tenants, credentials, and an enrolled authenticator for each tenant's admin. Idempotent. */
export async function seed(db: Database, config: AuthConfig): Promise<void> {
  const box = await loadSecretBox(config);
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
    const admin = tenant.users.admin;
    await db.pool.query(
      `INSERT INTO auth.totp_factors (user_id, tenant_id, secret_encrypted, confirmed_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (user_id) DO NOTHING`,
      [admin.id, tenant.id, box.seal(DEMO_TOTP_SECRET, admin.id)],
    );
  }
}
