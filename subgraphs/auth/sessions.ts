import { unauthenticated, type AccessTokenIssuer, type RevocationEvent } from '../../auth';
import type { Database, OutboxRelay, Tx } from '../kit';
import { insertAudit, type AuditEntry } from './data/audit';
import { findRoles } from './data/identities';
import * as data from './data/sessions';
import { newOpaqueToken, parseOpaqueToken } from './opaqueTokens';

export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  sessionId: string;
  sessionExpiresAt: Date;
}

export interface SessionServiceOptions {
  db: Database;
  issuer: AccessTokenIssuer;
  relay: Pick<OutboxRelay, 'flush'>;
  sessionTtlSeconds: number;
  accessTokenTtlSeconds: number;
  /** A rotated refresh token presented again within this window lost a race: refused, the family kept. */
  refreshReuseGraceSeconds: number;
  now?: () => number;
}

export type RevocationScope = { sessionId: string } | { userId: string; exceptSessionId?: string } | { allOfTenant: true };

/**
 * Sessions, refresh-token families and revocation. Refresh tokens rotate on every use (RFC 9700): presenting a
 * rotated token again, outside the grace window, ends the whole session and is audited. Every revocation is queued
 * in the outbox in the same transaction and then published to the gateways.
 */
export function createSessionService(options: SessionServiceOptions) {
  const { db, issuer } = options;
  const now = options.now ?? Date.now;
  // Every token a revocation covers has expired after this long.
  const forgetAfterMs = (options.accessTokenTtlSeconds + 300) * 1000;

  async function issueAccess(session: data.SessionRow, roles: string[]) {
    return issuer.issue({
      userId: session.user_id,
      tenantId: session.tenant_id,
      roles,
      sessionId: session.id,
      amr: session.amr,
      authTime: Math.floor(session.auth_time.getTime() / 1000),
    });
  }

  async function audit(entry: AuditEntry) {
    if (entry.tenantId) await db.withTenant(entry.tenantId, (tx) => insertAudit(tx, entry));
  }

  return {
    /** Opens a session for a user who has passed every factor, in the caller's transaction. */
    async open(tx: Tx, user: { tenantId: string; userId: string; roles: string[] }, amr: string[], authTime: Date): Promise<SessionTokens> {
      const session = await data.insertSession(tx, {
        tenantId: user.tenantId,
        userId: user.userId,
        amr,
        authTime,
        expiresAt: new Date(now() + options.sessionTtlSeconds * 1000),
      });
      const refresh = newOpaqueToken(user.tenantId);
      await data.insertRefreshToken(tx, {
        tenantId: user.tenantId,
        sessionId: session.id,
        hash: refresh.hash,
        expiresAt: session.expires_at,
      });
      const access = await issueAccess(session, user.roles);
      return {
        accessToken: access.token,
        refreshToken: refresh.token,
        expiresIn: access.expiresIn,
        sessionId: session.id,
        sessionExpiresAt: session.expires_at,
      };
    },

    /**
     * Trades a refresh token for a new pair. Concurrent refreshes with one token queue on its row lock: the first
     * wins; the others find it used within the grace window and get UNAUTHENTICATED `refresh_token_superseded`
     * (the family stays alive). Outside the window, reuse ends the session (`refresh_token_reused`).
     */
    async refresh(refreshToken: unknown, clientAddress: string): Promise<SessionTokens> {
      const parsed = parseOpaqueToken(refreshToken);
      if (!parsed) throw unauthenticated('refresh_token_invalid', 'Invalid refresh token');
      const { tenantId, hash } = parsed;
      const outcome = await db.withTenant(tenantId, async (tx) => {
        const found = await data.lockRefreshToken(tx, tenantId, hash);
        if (!found) return { error: 'refresh_token_invalid' as const };
        const { token, session } = found;
        const base = { tenantId, userId: session.user_id, sessionId: session.id, clientAddress };
        if (session.revoked_at) return { error: 'session_revoked' as const, base };
        if (session.expires_at.getTime() <= now() || token.expires_at.getTime() <= now())
          return { error: 'session_expired' as const, base };
        if (token.used_at) {
          if (now() - token.used_at.getTime() <= options.refreshReuseGraceSeconds * 1000)
            return { error: 'refresh_token_superseded' as const, base };
          await revokeInTx(tx, tenantId, { sessionId: session.id }, 'refresh_token_reused');
          await insertAudit(tx, { ...base, event: 'REFRESH_REUSE_DETECTED', outcome: 'FAILURE', reason: 'refresh_token_reused' });
          return { error: 'refresh_token_reused' as const, base, revoked: true };
        }
        const roles = await findRoles(tx, tenantId, session.user_id);
        if (!roles) {
          await revokeInTx(tx, tenantId, { sessionId: session.id }, 'user_disabled');
          return { error: 'session_revoked' as const, base, revoked: true };
        }
        const next = newOpaqueToken(tenantId);
        const nextId = await data.insertRefreshToken(tx, {
          tenantId,
          sessionId: session.id,
          hash: next.hash,
          expiresAt: session.expires_at,
        });
        await data.markRefreshTokenUsed(tx, token.id, nextId);
        await insertAudit(tx, { ...base, event: 'SESSION_REFRESHED', outcome: 'SUCCESS' });
        const access = await issueAccess(session, roles);
        return {
          tokens: {
            accessToken: access.token,
            refreshToken: next.token,
            expiresIn: access.expiresIn,
            sessionId: session.id,
            sessionExpiresAt: session.expires_at,
          },
        };
      });
      if ('tokens' in outcome && outcome.tokens) return outcome.tokens;
      if ('revoked' in outcome) await options.relay.flush().catch(() => undefined);
      else if (outcome.base) await audit({ ...outcome.base, event: 'SESSION_REFRESH_REFUSED', outcome: 'FAILURE', reason: outcome.error });
      throw unauthenticated(outcome.error, 'The refresh token cannot be used');
    },

    /** After a step-up: the session now records a second factor at `authTime`; a new access token says so. */
    async afterStepUp(viewer: { tenantId: string; sessionId: string }, authTime: Date): Promise<SessionTokens> {
      return db.withTenant(viewer.tenantId, (tx) => freshAccessInTx(tx, viewer, authTime));
    },

    /**
     * A new access token for the caller's session, in the caller's transaction (after a change of credentials); with
     * `secondFactorAt`, the session first records that second factor. The refresh token is unchanged (empty here).
     */
    freshAccessInTx,

    /** Ends sessions in the caller's transaction (queued for the gateways); returns the events queued. */
    revokeInTx,

    /** After the revoking transaction committed: publishes right away (the relay retries if the bus is down). */
    async publishPending(): Promise<void> {
      await options.relay.flush().catch(() => undefined);
    },
  };

  async function freshAccessInTx(tx: Tx, viewer: { tenantId: string; sessionId: string }, secondFactorAt?: Date): Promise<SessionTokens> {
    let session = await data.findSession(tx, viewer.tenantId, viewer.sessionId);
    if (session && secondFactorAt) {
      const amr = [...new Set([...session.amr, 'otp'])];
      session = await data.markSecondFactor(tx, viewer.tenantId, viewer.sessionId, amr, secondFactorAt);
    }
    const roles = session && !session.revoked_at && (await findRoles(tx, viewer.tenantId, session.user_id));
    if (!session || !roles) throw unauthenticated('session_revoked', 'The session has ended');
    const access = await issueAccess(session, roles);
    return {
      accessToken: access.token,
      refreshToken: '',
      expiresIn: access.expiresIn,
      sessionId: session.id,
      sessionExpiresAt: session.expires_at,
    };
  }

  async function revokeInTx(tx: Tx, tenantId: string, scope: RevocationScope, reason: string): Promise<RevocationEvent[]> {
    const sessionIds = await data.revokeSessions(tx, tenantId, scope, reason);
    const at = now();
    const events: RevocationEvent[] = [];
    if ('allOfTenant' in scope) {
      events.push({ kind: 'tenant', tenantId, issuedBefore: Math.floor(at / 1000), reason, at, forgetAt: at + forgetAfterMs });
    } else if (sessionIds.length) {
      events.push({ kind: 'sessions', tenantId, sessionIds, reason, at, forgetAt: at + forgetAfterMs });
    }
    for (const event of events) await data.enqueueRevocation(tx, event);
    return events;
  }
}
export type SessionService = ReturnType<typeof createSessionService>;
