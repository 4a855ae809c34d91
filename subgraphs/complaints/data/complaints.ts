import { keysetCondition, type PageRequest, type Tx } from '../../kit';

export type ComplaintStatus = 'OPEN' | 'IN_PROGRESS' | 'RESOLVED' | 'CLOSED';

export interface ComplaintRow {
  id: string;
  tenant_id: string;
  subject: string;
  description: string;
  status: ComplaintStatus;
  filed_by: string;
  assignee_id: string | null;
  related_record_id: string | null;
  internal_notes: string | null;
  created_at: Date;
}

export interface CommentRow {
  id: string;
  tenant_id: string;
  complaint_id: string;
  author_id: string;
  body: string;
  created_at: Date;
}

/** Whose complaints a query may return: everyone's (staff) or only those filed by `onlyFiledBy`. */
export interface Scope {
  tenantId: string;
  onlyFiledBy: string | null;
}

const COLUMNS = 'id, tenant_id, subject, description, status, filed_by, assignee_id, related_record_id, internal_notes, created_at';

export async function findComplaint(tx: Tx, scope: Scope, id: string, forUpdate = false): Promise<ComplaintRow | null> {
  const { rows } = await tx.query<ComplaintRow>(
    `SELECT ${COLUMNS} FROM complaints.complaints WHERE tenant_id = $1 AND ($2::uuid IS NULL OR filed_by = $2) AND id = $3${forUpdate ? ' FOR UPDATE' : ''}`,
    [scope.tenantId, scope.onlyFiledBy, id],
  );
  return rows[0] ?? null;
}

/** The complaints of `ids` within `scope`, in any order (one statement for a whole batch of references). */
export async function findComplaints(tx: Tx, scope: Scope, ids: readonly string[]): Promise<ComplaintRow[]> {
  const { rows } = await tx.query<ComplaintRow>(
    `SELECT ${COLUMNS} FROM complaints.complaints WHERE tenant_id = $1 AND ($2::uuid IS NULL OR filed_by = $2) AND id = ANY($3::uuid[])`,
    [scope.tenantId, scope.onlyFiledBy, ids],
  );
  return rows;
}

/**
 * One page of the complaints each of `filerIds` filed (`page.limit + 1` rows each, for toPage), within `scope`, for
 * a whole batch of users in one statement: ordered by filer, then (created_at, id).
 */
export async function listComplaintsOfFilers(
  tx: Tx,
  scope: Scope,
  page: PageRequest,
  status: ComplaintStatus | null,
  filerIds: readonly string[],
): Promise<ComplaintRow[]> {
  const keyset = keysetCondition(page, 6);
  const { rows } = await tx.query<ComplaintRow>(
    `SELECT ${COLUMNS} FROM (
       SELECT ${COLUMNS}, row_number() OVER (PARTITION BY filed_by ORDER BY created_at, id) AS position
         FROM complaints.complaints
        WHERE tenant_id = $1 AND ($2::uuid IS NULL OR filed_by = $2) AND ($3::text IS NULL OR status = $3)
          AND filed_by = ANY($5::uuid[]) AND ${keyset.sql}
     ) ranked
     WHERE position <= $4
     ORDER BY filed_by, created_at, id`,
    [scope.tenantId, scope.onlyFiledBy, status, page.limit + 1, filerIds, ...keyset.params],
  );
  return rows;
}

export async function listComplaints(
  tx: Tx,
  scope: Scope,
  page: PageRequest,
  filter: { status?: ComplaintStatus | null },
): Promise<ComplaintRow[]> {
  const keyset = keysetCondition(page, 5);
  const { rows } = await tx.query<ComplaintRow>(
    `SELECT ${COLUMNS} FROM complaints.complaints
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR filed_by = $2) AND ($3::text IS NULL OR status = $3) AND ${keyset.sql}
      ORDER BY created_at, id LIMIT $4`,
    [scope.tenantId, scope.onlyFiledBy, filter.status ?? null, page.limit + 1, ...keyset.params],
  );
  return rows;
}

export async function insertComplaint(
  tx: Tx,
  values: { tenantId: string; filedBy: string; subject: string; description: string; relatedRecordId: string | null },
): Promise<ComplaintRow> {
  const { rows } = await tx.query<ComplaintRow>(
    `INSERT INTO complaints.complaints (tenant_id, filed_by, subject, description, related_record_id)
     VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [values.tenantId, values.filedBy, values.subject, values.description, values.relatedRecordId],
  );
  return rows[0];
}

export async function setAssignee(tx: Tx, tenantId: string, id: string, assigneeId: string): Promise<ComplaintRow> {
  const { rows } = await tx.query<ComplaintRow>(
    `UPDATE complaints.complaints SET assignee_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, id, assigneeId],
  );
  return rows[0];
}

export async function setStatus(tx: Tx, tenantId: string, id: string, status: ComplaintStatus): Promise<ComplaintRow> {
  const { rows } = await tx.query<ComplaintRow>(
    `UPDATE complaints.complaints SET status = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, id, status],
  );
  return rows[0];
}

/** The comments (at most 500 each, oldest first) of a whole batch of complaints in one statement, by complaint. */
export async function listCommentsOf(tx: Tx, tenantId: string, complaintIds: readonly string[]): Promise<CommentRow[]> {
  const { rows } = await tx.query<CommentRow>(
    `SELECT id, tenant_id, complaint_id, author_id, body, created_at FROM (
       SELECT id, tenant_id, complaint_id, author_id, body, created_at,
              row_number() OVER (PARTITION BY complaint_id ORDER BY created_at, id) AS position
         FROM complaints.comments WHERE tenant_id = $1 AND complaint_id = ANY($2::uuid[])
     ) ranked
     WHERE position <= 500
     ORDER BY complaint_id, created_at, id`,
    [tenantId, complaintIds],
  );
  return rows;
}

export async function insertComment(
  tx: Tx,
  values: { tenantId: string; complaintId: string; authorId: string; body: string },
): Promise<CommentRow> {
  const { rows } = await tx.query<CommentRow>(
    `INSERT INTO complaints.comments (tenant_id, complaint_id, author_id, body) VALUES ($1, $2, $3, $4)
     RETURNING id, tenant_id, complaint_id, author_id, body, created_at`,
    [values.tenantId, values.complaintId, values.authorId, values.body],
  );
  return rows[0];
}
