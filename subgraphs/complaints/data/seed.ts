import { DEMO_TENANTS, demoId, type Database } from '../../kit';

/** Demo complaints per tenant: two filed by the member (one about their public record), one by the agent. Idempotent. */
export async function seed(db: Database): Promise<void> {
  for (const tenant of DEMO_TENANTS) {
    const { member, agent, manager } = tenant.users;
    const rows = [
      {
        n: 1,
        filedBy: member.id,
        subject: 'Record shows the wrong date',
        status: 'OPEN',
        assignee: agent.id,
        record: demoId(tenant, 1, 1),
        notes: 'Customer called twice.',
      },
      {
        n: 2,
        filedBy: member.id,
        subject: 'Cannot download my file',
        status: 'IN_PROGRESS',
        assignee: agent.id,
        record: null,
        notes: 'Check storage quota.',
      },
      { n: 3, filedBy: agent.id, subject: 'Printer on floor 2 is jammed', status: 'OPEN', assignee: null, record: null, notes: null },
    ];
    for (const row of rows) {
      await db.pool.query(
        `INSERT INTO complaints.complaints (id, tenant_id, subject, description, status, filed_by, assignee_id, related_record_id, internal_notes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, timestamptz '2026-03-01T00:00:00Z' + make_interval(mins => $10)) ON CONFLICT (id) DO NOTHING`,
        [
          demoId(tenant, 2, row.n),
          tenant.id,
          `${row.subject}`,
          `${tenant.name}: ${row.subject.toLowerCase()}.`,
          row.status,
          row.filedBy,
          row.assignee,
          row.record,
          row.notes,
          row.n,
        ],
      );
    }
    await db.pool.query(
      `INSERT INTO complaints.comments (id, tenant_id, complaint_id, author_id, body, created_at)
       VALUES ($1, $2, $3, $4, 'We are looking into it.', timestamptz '2026-03-02T00:00:00Z') ON CONFLICT (id) DO NOTHING`,
      [demoId(tenant, 3, 1), tenant.id, demoId(tenant, 2, 1), manager.id],
    );
  }
}
