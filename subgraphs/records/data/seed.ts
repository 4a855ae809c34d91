import { DEMO_TENANTS, demoId, type Database } from '../../kit';

/** Demo records for each tenant: one of each classification per non-admin user. Idempotent. */
export async function seed(db: Database): Promise<void> {
  for (const tenant of DEMO_TENANTS) {
    let n = 0;
    for (const user of [tenant.users.member, tenant.users.agent, tenant.users.manager]) {
      for (const classification of ['PUBLIC', 'INTERNAL', 'CONFIDENTIAL']) {
        n += 1;
        await db.pool.query(
          `INSERT INTO records.records (id, tenant_id, owner_id, title, body, classification, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, timestamptz '2026-02-01T00:00:00Z' + make_interval(mins => $7), timestamptz '2026-02-01T00:00:00Z' + make_interval(mins => $7))
           ON CONFLICT (id) DO NOTHING`,
          [
            demoId(tenant, 1, n),
            tenant.id,
            user.id,
            `${tenant.name.split(' ')[0]} ${classification.toLowerCase()} record of ${user.displayName}`,
            `Body of a ${classification} record kept by ${user.displayName}.`,
            classification,
            n,
          ],
        );
      }
    }
  }
}
