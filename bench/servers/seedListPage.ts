/**
 * Benchmark data for the list page, beside the demo data (which has three complaints per tenant): in acme, FILERS
 * more users, each with RECORDS_EACH records of mixed classifications, and COMPLAINTS complaints filed by them in
 * turn, all after the demo complaints (so the first page holds the demo's three, then the bench's). Written through
 * the subgraphs' database pool, as the demo seeds are; the production seeds and subgraph code are not touched.
 */
import type pg from 'pg';
import { DEMO_TENANTS } from '../../subgraphs/kit/demoTenants';

export const FILERS = 10;
export const RECORDS_EACH = 4;
export const COMPLAINTS = 60;

export async function seedListPage(pool: pg.Pool): Promise<void> {
  const tenant = DEMO_TENANTS[0];
  const prefix = tenant.id.slice(0, 8);
  // Fixed ids of a kind the demo seeds do not use (00b1: users, 00b2: records, 00b3: complaints).
  const id = (kind: number, n: string) => `'${prefix}-00b${kind}-4000-8000-' || lpad((${n})::text, 12, '0')`;
  await pool.query(
    `INSERT INTO users.profiles (id, tenant_id, email, display_name, created_at)
     SELECT (${id(1, 'u')})::uuid, $1, 'filer-' || u || '@${tenant.slug}.example', 'Bench Filer ' || u,
            timestamptz '2026-01-02T00:00:00Z' + make_interval(mins => u)
     FROM generate_series(1, $2::int) AS u ON CONFLICT (id) DO NOTHING`,
    [tenant.id, FILERS],
  );
  await pool.query(
    `INSERT INTO records.records (id, tenant_id, owner_id, title, body, classification, created_at, updated_at)
     SELECT (${id(2, 'u * 100 + r')})::uuid, $1, (${id(1, 'u')})::uuid, 'Record ' || r || ' of Bench Filer ' || u,
            'Body of a benchmark record.', (ARRAY['PUBLIC', 'INTERNAL', 'CONFIDENTIAL'])[1 + (r - 1) % 3],
            timestamptz '2026-02-02T00:00:00Z' + make_interval(mins => u * 100 + r),
            timestamptz '2026-02-02T00:00:00Z' + make_interval(mins => u * 100 + r)
     FROM generate_series(1, $2::int) AS u, generate_series(1, $3::int) AS r ON CONFLICT (id) DO NOTHING`,
    [tenant.id, FILERS, RECORDS_EACH],
  );
  await pool.query(
    `INSERT INTO complaints.complaints (id, tenant_id, subject, description, status, filed_by, created_at)
     SELECT (${id(3, 'c')})::uuid, $1, 'Benchmark complaint ' || c, 'Filed for the list page of the benchmark.', 'OPEN',
            (${id(1, '1 + (c - 1) % $2::int')})::uuid, timestamptz '2026-03-02T00:00:00Z' + make_interval(mins => c)
     FROM generate_series(1, $3::int) AS c ON CONFLICT (id) DO NOTHING`,
    [tenant.id, FILERS, COMPLAINTS],
  );
}
