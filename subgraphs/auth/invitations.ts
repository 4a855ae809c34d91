import { randomBytes } from 'node:crypto';
import { badUserInput, forbidden, notFound, unauthenticated, type ContextUser, type RevocationEvent, type RoleTable } from '../../auth';
import type { Database } from '../kit';
import { insertAudit } from './data/audit';
import * as identities from './data/identities';
import { newOpaqueToken, parseOpaqueToken } from './opaqueTokens';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords';
import type { SessionService, SessionTokens } from './sessions';
import type { Throttle } from './throttle';

const INVITATION_TTL_MS = 7 * 86_400_000;

/** Nobody grants a role that holds a scope they do not hold themselves (the roles file says what each role grants). */
export function assertGrantable(table: RoleTable, viewer: ContextUser, roles: readonly string[]) {
  for (const role of roles) {
    if (!table.isRole(role)) throw badUserInput(`"${role}" is not a role`, 'unknown_role');
    if (table.scopesOfRole(role).some((scope) => !viewer.scopes.includes(scope))) {
      throw forbidden('role_above_own', 'You cannot grant a role above your own');
    }
  }
}

/** Invitations: an admin gives sign-in to a user of the tenant; the user chooses a password with a single-use token. */
export function createInvitationService(options: {
  db: Database;
  sessions: SessionService;
  throttle: Throttle;
  roles: RoleTable;
  now?: () => number;
}) {
  const { db, sessions } = options;
  const now = options.now ?? Date.now;
  return {
    async invite(viewer: ContextUser, input: { userId: string; email: string; roles: string[] }, clientAddress: string) {
      const email = input.email.trim().toLowerCase();
      const roles = [...new Set(input.roles)];
      if (!/^[^@\s]{1,64}@[^@\s]{1,190}$/.test(email)) throw badUserInput('"email" is not an email address', 'invalid_email');
      if (!roles.length) throw badUserInput('A user needs at least one role', 'no_roles');
      assertGrantable(options.roles, viewer, roles);
      const invitation = newOpaqueToken(viewer.tenantId);
      const expiresAt = new Date(now() + INVITATION_TTL_MS);
      // Until the invitation is accepted the account is disabled and its password is random.
      const placeholder = await hashPassword(randomBytes(32).toString('base64url'));
      await db.withTenant(viewer.tenantId, async (tx) => {
        const created = await identities.insertInvitedCredential(tx, {
          tenantId: viewer.tenantId,
          userId: input.userId,
          email,
          passwordHash: placeholder,
          roles,
        });
        if (!created) throw badUserInput('That user or email already has sign-in in this tenant', 'already_exists');
        await identities.insertInvitation(tx, {
          hash: invitation.hash,
          tenantId: viewer.tenantId,
          userId: input.userId,
          createdBy: viewer.id,
          expiresAt,
        });
        await insertAudit(tx, {
          tenantId: viewer.tenantId,
          userId: input.userId,
          sessionId: viewer.sessionId,
          clientAddress,
          event: 'USER_INVITED',
          outcome: 'SUCCESS',
        });
      });
      return { userId: input.userId, invitationToken: invitation.token, expiresAt };
    },

    /**
     * An admin resets a user's password: the old one stops working, every session of the user ends (queued for the
     * gateways), and a single-use token lets the user choose a new one (acceptInvitation) — all in one transaction.
     * A disabled user is refused: accepting would enable them.
     */
    async resetPassword(
      viewer: ContextUser,
      userId: string,
      clientAddress: string,
    ): Promise<{ invitation: { userId: string; invitationToken: string; expiresAt: Date }; events: RevocationEvent[] }> {
      const invitation = newOpaqueToken(viewer.tenantId);
      const expiresAt = new Date(now() + INVITATION_TTL_MS);
      const placeholder = await hashPassword(randomBytes(32).toString('base64url'));
      const events = await db.withTenant(viewer.tenantId, async (tx) => {
        const current = await identities.findPasswordHash(tx, viewer.tenantId, userId);
        if (current === null) throw notFound('User not found');
        if (!(await identities.findRoles(tx, viewer.tenantId, userId))) throw badUserInput('Enable the user first', 'user_disabled');
        await identities.replacePasswordHash(tx, viewer.tenantId, userId, current, placeholder);
        await identities.insertInvitation(tx, {
          hash: invitation.hash,
          tenantId: viewer.tenantId,
          userId,
          createdBy: viewer.id,
          expiresAt,
        });
        const queued = await sessions.revokeInTx(tx, viewer.tenantId, { userId }, 'password_reset');
        await insertAudit(tx, {
          tenantId: viewer.tenantId,
          userId,
          sessionId: viewer.sessionId,
          clientAddress,
          event: 'PASSWORD_RESET',
          outcome: 'SUCCESS',
        });
        return queued;
      });
      return { invitation: { userId, invitationToken: invitation.token, expiresAt }, events };
    },

    async accept(token: string, password: string, clientAddress: string): Promise<SessionTokens> {
      const parsed = parseOpaqueToken(token);
      if (!parsed) throw unauthenticated('invitation_invalid', 'The invitation is not valid');
      if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
        throw badUserInput(`The password needs ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`, 'weak_password');
      }
      await options.throttle.attempt('login', { address: clientAddress });
      const passwordHash = await hashPassword(password);
      const tokens = await db.withTenant(parsed.tenantId, async (tx) => {
        const accepted = await identities.acceptInvitation(tx, parsed.tenantId, parsed.hash, passwordHash);
        if (!accepted) return null;
        const opened = await sessions.open(
          tx,
          { tenantId: parsed.tenantId, userId: accepted.userId, roles: accepted.roles },
          ['pwd'],
          new Date(now()),
        );
        await insertAudit(tx, {
          tenantId: parsed.tenantId,
          userId: accepted.userId,
          sessionId: opened.sessionId,
          clientAddress,
          event: 'INVITATION_ACCEPTED',
          outcome: 'SUCCESS',
        });
        return opened;
      });
      if (!tokens) throw unauthenticated('invitation_invalid', 'The invitation is not valid');
      return tokens;
    },
  };
}
export type InvitationService = ReturnType<typeof createInvitationService>;
