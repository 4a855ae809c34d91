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

/** The records of `ids` the caller may see, in any order (one statement for a whole batch of references). */
export async function findRecords(tx: Tx, v: Visibility, ids: readonly string[]): Promise<RecordRow[]> {
  const { rows } = await tx.query<RecordRow>(
    `SELECT ${COLUMNS} FROM records.records WHERE tenant_id = $1 AND ${VISIBLE} AND id = ANY($4::uuid[])`,
    [v.tenantId, v.viewerId, v.classifications, ids],
  );
  return rows;
}

/** For mutations: the record whatever its classification, locked for update. */
export async function findRecordForUpdate(tx: Tx, tenantId: string, id: string): Promise<RecordRow | null> {
  const { rows } = await tx.query<RecordRow>(`SELECT ${COLUMNS} FROM records.records WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [
    tenantId,
    id,
  ]);
  return rows[0] ?? null;
}

export async function listRecords(tx: Tx, v: Visibility, page: PageRequest): Promise<RecordRow[]> {
  const keyset = keysetCondition(page, 5);
  const { rows } = await tx.query<RecordRow>(
    `SELECT ${COLUMNS} FROM records.records
      WHERE tenant_id = $1 AND ${VISIBLE} AND archived_at IS NULL AND ${keyset.sql}
      ORDER BY created_at, id LIMIT $4`,
    [v.tenantId, v.viewerId, v.classifications, page.limit + 1, ...keyset.params],
  );
  return rows;
}

/**
 * One page of each owner's records (`page.limit + 1` rows each, so that toPage can tell whether more follow), for a
 * whole batch of owners in one statement: the rows of every owner, ordered by owner, then (created_at, id).
 */
export async function listRecordsOfOwners(tx: Tx, v: Visibility, page: PageRequest, ownerIds: readonly string[]): Promise<RecordRow[]> {
  const keyset = keysetCondition(page, 6);
  const { rows } = await tx.query<RecordRow>(
    `SELECT ${COLUMNS} FROM (
       SELECT ${COLUMNS}, row_number() OVER (PARTITION BY owner_id ORDER BY created_at, id) AS position
         FROM records.records
        WHERE tenant_id = $1 AND ${VISIBLE} AND archived_at IS NULL AND owner_id = ANY($5::uuid[]) AND ${keyset.sql}
     ) ranked
     WHERE position <= $4
     ORDER BY owner_id, created_at, id`,
    [v.tenantId, v.viewerId, v.classifications, page.limit + 1, ownerIds, ...keyset.params],
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
