import type { RevocationEvent } from '../../../auth';
import type { Tx } from '../../kit';

export interface SessionRow {
  id: string;
  tenant_id: string;
  user_id: string;
  amr: string[];
  auth_time: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface RefreshTokenRow {
  id: string;
  session_id: string;
  used_at: Date | null;
  expires_at: Date;
}

const SESSION_COLUMNS = 'id, tenant_id, user_id, amr, auth_time, expires_at, revoked_at';

export async function insertSession(
  tx: Tx,
  values: { tenantId: string; userId: string; amr: string[]; authTime: Date; expiresAt: Date },
): Promise<SessionRow> {
  const { rows } = await tx.query<SessionRow>(
    `INSERT INTO auth.sessions (tenant_id, user_id, amr, auth_time, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${SESSION_COLUMNS}`,
    [values.tenantId, values.userId, values.amr, values.authTime, values.expiresAt],
  );
  return rows[0];
}

export async function insertRefreshToken(
  tx: Tx,
  values: { tenantId: string; sessionId: string; hash: Buffer; expiresAt: Date },
): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    'INSERT INTO auth.refresh_tokens (tenant_id, session_id, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING id',
    [values.tenantId, values.sessionId, values.hash, values.expiresAt],
  );
  return rows[0].id;
}

/** The refresh token and its session, locked: concurrent refreshes of one token queue here. */
export async function lockRefreshToken(
  tx: Tx,
  tenantId: string,
  hash: Buffer,
): Promise<{ token: RefreshTokenRow; session: SessionRow } | null> {
  const { rows } = await tx.query<RefreshTokenRow & { s: SessionRow }>(
    `SELECT rt.id, rt.session_id, rt.used_at, rt.expires_at,
            json_build_object('id', s.id, 'tenant_id', s.tenant_id, 'user_id', s.user_id, 'amr', s.amr,
              'auth_time', s.auth_time, 'expires_at', s.expires_at, 'revoked_at', s.revoked_at) AS s
       FROM auth.refresh_tokens rt JOIN auth.sessions s ON s.id = rt.session_id
      WHERE rt.tenant_id = $1 AND rt.token_hash = $2
      FOR UPDATE OF rt, s`,
    [tenantId, hash],
  );
  const row = rows[0];
  if (!row) return null;
  const s = row.s;
  return {
    token: { id: row.id, session_id: row.session_id, used_at: row.used_at, expires_at: row.expires_at },
    session: {
      ...s,
      auth_time: new Date(s.auth_time),
      expires_at: new Date(s.expires_at),
      revoked_at: s.revoked_at ? new Date(s.revoked_at) : null,
    },
  };
}

export async function markRefreshTokenUsed(tx: Tx, tokenId: string, replacedBy: string): Promise<void> {
  await tx.query('UPDATE auth.refresh_tokens SET used_at = clock_timestamp(), replaced_by = $2 WHERE id = $1', [tokenId, replacedBy]);
}

export async function findSession(tx: Tx, tenantId: string, sessionId: string): Promise<SessionRow | null> {
  const { rows } = await tx.query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM auth.sessions WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    sessionId,
  ]);
  return rows[0] ?? null;
}

/** Ends sessions: one, all of a user, or all of a tenant. Returns the ids that were live. */
export async function revokeSessions(
  tx: Tx,
  tenantId: string,
  scope: { sessionId: string } | { userId: string; exceptSessionId?: string } | { allOfTenant: true },
  reason: string,
): Promise<string[]> {
  const [condition, param] =
    'sessionId' in scope ? ['id = $2', scope.sessionId] : 'userId' in scope ? ['user_id = $2', scope.userId] : ['$2::text IS NULL', null];
  // Every other session of the user: the one that made a change of credentials stays.
  const except = 'userId' in scope && scope.exceptSessionId ? scope.exceptSessionId : null;
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE auth.sessions SET revoked_at = clock_timestamp(), revoked_reason = $3
      WHERE tenant_id = $1 AND ${condition} AND id IS DISTINCT FROM $4::uuid AND revoked_at IS NULL AND expires_at > now()
      RETURNING id`,
    [tenantId, param, reason, except],
  );
  return rows.map((row) => row.id);
}

/** Queues a revocation for the bus in the revoking transaction (the outbox): none is lost if the bus is down. */
export async function enqueueRevocation(tx: Tx, event: RevocationEvent): Promise<void> {
  await tx.query('INSERT INTO auth.revocation_outbox (tenant_id, event) VALUES ($1, $2)', [event.tenantId, event]);
}

/** Records a second factor proved within a session (step-up): later refreshes carry it too. */
export async function markSecondFactor(
  tx: Tx,
  tenantId: string,
  sessionId: string,
  amr: string[],
  authTime: Date,
): Promise<SessionRow | null> {
  const { rows } = await tx.query<SessionRow>(
    `UPDATE auth.sessions SET amr = $3, auth_time = $4 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING ${SESSION_COLUMNS}`,
    [tenantId, sessionId, amr, authTime],
  );
  return rows[0] ?? null;
}
