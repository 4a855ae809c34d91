import { badUserInput, hasRecentSecondFactor, stepUpRequired, type ContextUser, type RevocationEvent } from '../../auth';
import type { Database, Tx } from '../kit';
import { insertAudit } from './data/audit';
import { findFactor } from './data/factors';
import { findPasswordHash, replacePasswordHash } from './data/identities';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords';
import type { SessionService, SessionTokens } from './sessions';
import type { Throttle } from './throttle';

/** What a change of credentials leaves: the revocations it queued and a fresh access token for the current session. */
export interface CredentialChange {
  events: RevocationEvent[];
  tokens: SessionTokens;
}

/**
 * Changes of credentials and what they imply. A change (password changed, second factor enrolled or removed) ends
 * every other session of the account — queued for the gateways like a logout, audited — in the transaction of the
 * change itself, and the current session gets a fresh access token.
 */
export function createCredentialService(options: {
  db: Database;
  sessions: SessionService;
  throttle: Throttle;
  passwords: { check(hash: string | undefined, password: string): Promise<boolean> };
  stepUpMaxAgeSeconds: number;
  now?: () => number;
}) {
  const { db, sessions, throttle, passwords } = options;
  const now = options.now ?? Date.now;

  /** In the change's transaction: the account's other sessions end, and the current one gets a new access token. */
  async function endOtherSessionsInTx(
    tx: Tx,
    viewer: ContextUser,
    clientAddress: string,
    secondFactorAt?: Date,
  ): Promise<CredentialChange> {
    const events = await sessions.revokeInTx(
      tx,
      viewer.tenantId,
      { userId: viewer.id, exceptSessionId: viewer.sessionId },
      'credentials_changed',
    );
    await insertAudit(tx, {
      tenantId: viewer.tenantId,
      userId: viewer.id,
      sessionId: viewer.sessionId,
      clientAddress,
      event: 'OTHER_SESSIONS_ENDED',
      outcome: 'SUCCESS',
      reason: 'credentials_changed',
    });
    return { events, tokens: await sessions.freshAccessInTx(tx, viewer, secondFactorAt) };
  }

  return {
    endOtherSessionsInTx,

    /**
     * The caller's password: the current one proves who is asking (throttled like a login), and an account with a
     * second factor must also have proved it recently (STEP_UP_REQUIRED otherwise).
     */
    async changePassword(viewer: ContextUser, current: string, next: string, clientAddress: string): Promise<CredentialChange> {
      if (viewer.issuer) throw badUserInput('Change your password with your identity provider', 'external_session');
      if (next.length < MIN_PASSWORD_LENGTH || next.length > MAX_PASSWORD_LENGTH) {
        throw badUserInput(`The password needs ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`, 'weak_password');
      }
      const { hash, hasSecondFactor } = await db.withTenant(viewer.tenantId, async (tx) => ({
        hash: await findPasswordHash(tx, viewer.tenantId, viewer.id),
        hasSecondFactor: Boolean((await findFactor(tx, viewer.tenantId, viewer.id, false))?.confirmed_at),
      }));
      if (hasSecondFactor && !hasRecentSecondFactor(viewer, options.stepUpMaxAgeSeconds, now())) {
        throw stepUpRequired(options.stepUpMaxAgeSeconds);
      }
      await throttle.attempt('login', { account: `user:${viewer.id}`, address: clientAddress });
      const base = { tenantId: viewer.tenantId, userId: viewer.id, sessionId: viewer.sessionId, clientAddress };
      if (!hash || !(await passwords.check(hash, current))) {
        await db.withTenant(viewer.tenantId, (tx) =>
          insertAudit(tx, { ...base, event: 'PASSWORD_CHANGE_REFUSED', outcome: 'FAILURE', reason: 'invalid_password' }),
        );
        throw badUserInput('The current password is not right', 'invalid_password');
      }
      if (await passwords.check(hash, next)) throw badUserInput('Choose a new password', 'password_unchanged');
      const nextHash = await hashPassword(next);
      const change = await db.withTenant(viewer.tenantId, async (tx) => {
        if (!(await replacePasswordHash(tx, viewer.tenantId, viewer.id, hash, nextHash))) {
          throw badUserInput('The password was changed meanwhile; sign in again', 'password_changed_meanwhile');
        }
        await insertAudit(tx, { ...base, event: 'PASSWORD_CHANGED', outcome: 'SUCCESS' });
        return endOtherSessionsInTx(tx, viewer, clientAddress);
      });
      await throttle.succeeded('login', `user:${viewer.id}`);
      return change;
    },
  };
}
export type CredentialService = ReturnType<typeof createCredentialService>;
