import { keysetCondition, type PageRequest, type Tx } from '../../kit';

export type Classification = 'PUBLIC' | 'INTERNAL' | 'CONFIDENTIAL';

export interface RecordRow {
  id: string;
  tenant_id: string;
  owner_id: string;
  title: string;
  body: string;
  classification: Classification;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

/** Whom a query answers for: the caller's id and the classifications of others' records they may read. */
export interface Visibility {
  tenantId: string;
  viewerId: string;
  classifications: Classification[];
}

const COLUMNS = 'id, tenant_id, owner_id, title, body, classification, created_at, updated_at, archived_at';
// A record is visible to its owner, and to others when their role may read its classification.
const VISIBLE = '(owner_id = $2 OR classification = ANY($3::text[]))';

export async function findRecord(tx: Tx, v: Visibility, id: string): Promise<RecordRow | null> {
  const { rows } = await tx.query<RecordRow>(`SELECT ${COLUMNS} FROM records.records WHERE tenant_id = $1 AND ${VISIBLE} AND id = $4`, [
    v.tenantId,
    v.viewerId,
    v.classifications,
    id,
  ]);
  return rows[0] ?? null;
}

/** For mutations: the record whatever its classification, locked for update. */
export async function findRecordForUpdate(tx: Tx, tenantId: string, id: string): Promise<RecordRow | null> {
  const { rows } = await tx.query<RecordRow>(`SELECT ${COLUMNS} FROM records.records WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [
    tenantId,
    id,
  ]);
  return rows[0] ?? null;
}

export async function listRecords(tx: Tx, v: Visibility, page: PageRequest, ownerId?: string): Promise<RecordRow[]> {
  const keyset = keysetCondition(page, 6);
  const { rows } = await tx.query<RecordRow>(
    `SELECT ${COLUMNS} FROM records.records
      WHERE tenant_id = $1 AND ${VISIBLE} AND archived_at IS NULL AND ($5::uuid IS NULL OR owner_id = $5) AND ${keyset.sql}
      ORDER BY created_at, id LIMIT $4`,
    [v.tenantId, v.viewerId, v.classifications, page.limit + 1, ownerId ?? null, ...keyset.params],
  );
  return rows;
}

export async function insertRecord(
  tx: Tx,
  values: { tenantId: string; ownerId: string; title: string; body: string; classification: Classification },
): Promise<RecordRow> {
  const { rows } = await tx.query<RecordRow>(
    `INSERT INTO records.records (tenant_id, owner_id, title, body, classification) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [values.tenantId, values.ownerId, values.title, values.body, values.classification],
  );
  return rows[0];
}

export async function updateRecord(
  tx: Tx,
  tenantId: string,
  id: string,
  changes: { title?: string | null; body?: string | null; classification?: Classification | null },
): Promise<RecordRow> {
  const { rows } = await tx.query<RecordRow>(
    `UPDATE records.records SET title = COALESCE($3, title), body = COALESCE($4, body),
       classification = COALESCE($5, classification), updated_at = now()
     WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, id, changes.title ?? null, changes.body ?? null, changes.classification ?? null],
  );
  return rows[0];
}

export async function archiveRecord(tx: Tx, tenantId: string, id: string): Promise<RecordRow> {
  const { rows } = await tx.query<RecordRow>(
    `UPDATE records.records SET archived_at = COALESCE(archived_at, now()), updated_at = now()
     WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, id],
  );
  return rows[0];
}
