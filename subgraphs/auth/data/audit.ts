import { keysetCondition, type PageRequest, type Tx } from '../../kit';

export type AuditOutcome = 'SUCCESS' | 'FAILURE';

export interface AuditEntry {
  tenantId: string | null;
  userId?: string | null;
  sessionId?: string | null;
  clientAddress?: string | null;
  event: string;
  outcome: AuditOutcome;
  reason?: string | null;
}

export interface AuditRow {
  id: string;
  user_id: string | null;
  session_id: string | null;
  client_address: string | null;
  event: string;
  outcome: AuditOutcome;
  reason: string | null;
  created_at: Date;
}

export async function insertAudit(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.query(
    'INSERT INTO auth.audit_events (tenant_id, user_id, session_id, client_address, event, outcome, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [
      entry.tenantId,
      entry.userId ?? null,
      entry.sessionId ?? null,
      entry.clientAddress ?? null,
      entry.event,
      entry.outcome,
      entry.reason ?? null,
    ],
  );
}

export async function listAudit(
  tx: Tx,
  tenantId: string,
  page: PageRequest,
  filter: { event?: string | null; userId?: string | null; outcome?: AuditOutcome | null },
): Promise<AuditRow[]> {
  const keyset = keysetCondition(page, 6, 'a', 'occurred_at');
  const { rows } = await tx.query<AuditRow>(
    `SELECT id, user_id, session_id, client_address, event, outcome, reason, occurred_at AS created_at FROM auth.audit_events a
      WHERE tenant_id = $1 AND ($3::text IS NULL OR event = $3) AND ($4::uuid IS NULL OR user_id = $4) AND ($5::text IS NULL OR outcome = $5)
        AND ${keyset.sql}
      ORDER BY occurred_at, id LIMIT $2`,
    [tenantId, page.limit + 1, filter.event ?? null, filter.userId ?? null, filter.outcome ?? null, ...keyset.params],
  );
  return rows;
}
