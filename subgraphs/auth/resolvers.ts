import {
  REVOCATIONS_HEADER,
  badUserInput,
  buildRefreshCookie,
  encodeAnnouncedRevocations,
  forbidden,
  notFound,
  readRefreshCookie,
  unauthenticated,
  type ContextUser,
  type RevocationEvent,
  type RoleTable,
} from '../../auth';
import {
  DateTime,
  inKeyOrder,
  isUuid,
  parsePage,
  requestLoader,
  requireViewer,
  toPage,
  type Database,
  type SubgraphContext,
  type Tx,
} from '../kit';
import { insertAudit, listAudit, type AuditOutcome, type AuditRow } from './data/audit';
import { findEmail, findRoles, findRolesOf, updateDisabled, updateRoles } from './data/identities';
import { findSession } from './data/sessions';
import type { CredentialChange, CredentialService } from './credentials';
import type { FactorService } from './factors';
import { assertGrantable, type InvitationService } from './invitations';
import type { LoginService, RefreshDelivery } from './login';
import type { RevocationScope, SessionService, SessionTokens } from './sessions';

type Ctx = SubgraphContext;

export interface AuthResolverDeps {
  db: Database;
  login: LoginService;
  sessions: SessionService;
  factors: FactorService;
  invitations: InvitationService;
  credentials: CredentialService;
  /** The roles file: which roles a caller may grant. */
  roles: RoleTable;
  refreshCookie: { path: string };
  now?: () => number;
}

export function createResolvers(deps: AuthResolverDeps) {
  const { db, login, sessions, factors, invitations, credentials } = deps;
  const now = deps.now ?? Date.now;
  const cookie = deps.refreshCookie;

  /** The AuthSession answer; with COOKIE delivery the refresh token goes into an HttpOnly cookie instead. */
  function answer(ctx: Ctx, tokens: SessionTokens, delivery: RefreshDelivery) {
    if (delivery === 'COOKIE') {
      const maxAge = Math.max(0, Math.floor((tokens.sessionExpiresAt.getTime() - now()) / 1000));
      ctx.reply.header('set-cookie', buildRefreshCookie(tokens.refreshToken, { path: cookie.path, maxAgeSeconds: maxAge }));
    }
    return {
      __typename: 'AuthSession',
      accessToken: tokens.accessToken,
      refreshToken: delivery === 'COOKIE' ? null : tokens.refreshToken,
      expiresIn: tokens.expiresIn,
      tokenType: 'Bearer',
      sessionExpiresAt: tokens.sessionExpiresAt,
    };
  }

  /**
   * Revokes in one transaction with its audit row and outbox events, publishes, and tells the carrying gateway at once.
   * `change`, when given, is the change that calls for the revocation: it runs first in the same transaction, so the
   * change, the revocation and its events are committed together or not at all.
   */
  async function revoke(
    ctx: Ctx,
    viewer: ContextUser,
    scope: RevocationScope,
    reason: string,
    event: string,
    subjectId?: string,
    change?: (tx: Tx) => Promise<void>,
  ) {
    const events: RevocationEvent[] = await db.withTenant(viewer.tenantId, async (tx) => {
      await change?.(tx);
      const queued = await sessions.revokeInTx(tx, viewer.tenantId, scope, reason);
      await insertAudit(tx, {
        tenantId: viewer.tenantId,
        userId: subjectId ?? viewer.id,
        sessionId: viewer.sessionId,
        clientAddress: ctx.forwarded.clientAddress,
        event,
        outcome: 'SUCCESS',
        reason,
      });
      return queued;
    });
    await announce(ctx, events);
    return events;
  }

  /** After a revoking transaction committed: publishes, and tells the gateway carrying this request at once. */
  async function announce(ctx: Ctx, events: RevocationEvent[]) {
    await ctx.afterCommit(() => sessions.publishPending());
    if (events.length) ctx.reply.header(REVOCATIONS_HEADER, encodeAnnouncedRevocations(events));
  }

  /** The answer to a change of credentials: the other sessions are announced ended, the current one gets a new token. */
  async function afterCredentialChange(ctx: Ctx, change: CredentialChange) {
    await announce(ctx, change.events);
    return { ...answer(ctx, change.tokens, 'BODY'), refreshToken: null };
  }

  function refuseExternal(viewer: ContextUser) {
    if (viewer.issuer) throw badUserInput('Manage your sign-in with your identity provider', 'external_session');
  }

  const countOf = (events: RevocationEvent[]) =>
    events.reduce((sum, event) => sum + (event.kind === 'sessions' ? event.sessionIds.length : 0), 0);

  function checkManageable(viewer: ContextUser, userId: string) {
    if (!isUuid(userId)) throw notFound('User not found');
    if (userId === viewer.id) throw forbidden('own_account', 'You cannot change your own account this way');
  }

  return {
    DateTime,
    LoginResult: {
      __resolveType: (result: { __typename?: string; challengeId?: string }) => (result.challengeId ? 'TwoFactorChallenge' : 'AuthSession'),
    },
    Query: {
      async viewer(_: unknown, __: unknown, ctx: Ctx) {
        if (!ctx.viewer) return null;
        const viewer = ctx.viewer;
        const base = {
          userId: viewer.id,
          tenantId: viewer.tenantId,
          roles: viewer.roles,
          permissions: viewer.scopes,
          sessionId: viewer.sessionId,
          issuer: viewer.issuer ?? null,
          user: { __typename: 'User', id: viewer.id },
        };
        // An external provider's session lives there, not here.
        if (viewer.issuer) return { ...base, sessionExpiresAt: null, authenticationMethods: viewer.amr ?? [] };
        const session = await db.withTenant(viewer.tenantId, (tx) => findSession(tx, viewer.tenantId, viewer.sessionId));
        if (!session || session.revoked_at) throw unauthenticated('session_revoked', 'The session has ended');
        return { ...base, sessionExpiresAt: session.expires_at, authenticationMethods: viewer.amr ?? session.amr };
      },
      async auditEvents(
        _: unknown,
        args: { first?: number; after?: string; filter?: { event?: string; userId?: string; outcome?: AuditOutcome } },
        ctx: Ctx,
      ) {
        const viewer = requireViewer(ctx);
        const page = parsePage(args);
        const filter = args.filter ?? {};
        if (filter.userId && !isUuid(filter.userId)) return toPage([], page);
        const rows = await db.withTenant(viewer.tenantId, (tx) => listAudit(tx, viewer.tenantId, page, filter));
        return toPage(rows, page);
      },
    },
    Mutation: {
      async login(
        _: unknown,
        args: { input: { email: string; password: string; tenant: string; refreshTokenDelivery?: RefreshDelivery } },
        ctx: Ctx,
      ) {
        const { input } = args;
        const outcome = await login.login({ ...input, delivery: input.refreshTokenDelivery ?? 'BODY' }, ctx.forwarded.clientAddress);
        if (outcome.kind === 'challenge')
          return { __typename: 'TwoFactorChallenge', challengeId: outcome.challengeId, methods: outcome.methods };
        return answer(ctx, outcome.tokens, outcome.delivery);
      },
      async verifyLoginCode(_: unknown, args: { challengeId: string; code: string }, ctx: Ctx) {
        const { tokens, delivery } = await login.verifyCode(args.challengeId, args.code, ctx.forwarded.clientAddress);
        return answer(ctx, tokens, delivery);
      },
      async refreshSession(_: unknown, args: { refreshToken?: string | null }, ctx: Ctx) {
        const fromCookie = args.refreshToken ? undefined : readRefreshCookie(ctx.request.headers.cookie);
        const tokens = await sessions.refresh(args.refreshToken ?? fromCookie, ctx.forwarded.clientAddress);
        return answer(ctx, tokens, fromCookie ? 'COOKIE' : 'BODY');
      },
      async logout(_: unknown, __: unknown, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        await revoke(ctx, viewer, { sessionId: viewer.sessionId }, 'logout', 'LOGOUT');
        return true;
      },
      async logoutEverywhere(_: unknown, __: unknown, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        return countOf(await revoke(ctx, viewer, { userId: viewer.id }, 'logout_everywhere', 'LOGOUT_EVERYWHERE'));
      },
      async revokeUserSessions(_: unknown, args: { userId: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        if (!isUuid(args.userId)) throw notFound('User not found');
        // Another tenant's user is no user here: NOT_FOUND, and no audit row naming an id this tenant does not have.
        const events = await revoke(
          ctx,
          viewer,
          { userId: args.userId },
          'revoked_by_admin',
          'SESSIONS_REVOKED',
          args.userId,
          async (tx) => {
            if ((await findEmail(tx, viewer.tenantId, args.userId)) === null) throw notFound('User not found');
          },
        );
        return countOf(events);
      },
      async revokeTenantSessions(_: unknown, __: unknown, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        await revoke(ctx, viewer, { allOfTenant: true }, 'tenant_revoked', 'TENANT_SESSIONS_REVOKED');
        return true;
      },
      startTotpEnrolment: (_: unknown, __: unknown, ctx: Ctx) => factors.start(requireViewer(ctx), ctx.forwarded.clientAddress),
      // A change of credentials: the account's other sessions end with it, and this one gets a fresh access token.
      async confirmTotpEnrolment(_: unknown, args: { code: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        refuseExternal(viewer);
        const address = ctx.forwarded.clientAddress;
        const change = await factors.confirm(viewer, args.code, address, (tx) =>
          credentials.endOtherSessionsInTx(tx, viewer, address, new Date(now())),
        );
        return afterCredentialChange(ctx, change);
      },
      async disableTotp(_: unknown, args: { code: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        refuseExternal(viewer);
        const address = ctx.forwarded.clientAddress;
        const change = await factors.disable(viewer, args.code, address, (tx) => credentials.endOtherSessionsInTx(tx, viewer, address));
        return afterCredentialChange(ctx, change);
      },
      async changePassword(_: unknown, args: { currentPassword: string; newPassword: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        const change = await credentials.changePassword(viewer, args.currentPassword, args.newPassword, ctx.forwarded.clientAddress);
        return afterCredentialChange(ctx, change);
      },
      async resetUserPassword(_: unknown, args: { userId: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        checkManageable(viewer, args.userId);
        const { invitation, events } = await invitations.resetPassword(viewer, args.userId, ctx.forwarded.clientAddress);
        await announce(ctx, events);
        return invitation;
      },
      async stepUpSession(_: unknown, args: { code: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        if (viewer.issuer) throw badUserInput('Step up with your identity provider', 'external_session');
        await factors.stepUp(viewer, args.code, ctx.forwarded.clientAddress);
        const tokens = await sessions.afterStepUp(viewer, new Date(now()));
        return { ...answer(ctx, tokens, 'BODY'), refreshToken: null };
      },
      inviteUser: (_: unknown, args: { input: { userId: string; email: string; roles: string[] } }, ctx: Ctx) => {
        if (!isUuid(args.input.userId)) throw badUserInput('"userId" is not a user id');
        return invitations.invite(requireViewer(ctx), args.input, ctx.forwarded.clientAddress);
      },
      async acceptInvitation(_: unknown, args: { invitationToken: string; password: string }, ctx: Ctx) {
        return answer(ctx, await invitations.accept(args.invitationToken, args.password, ctx.forwarded.clientAddress), 'BODY');
      },
      async setUserRoles(_: unknown, args: { userId: string; roles: string[] }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        checkManageable(viewer, args.userId);
        const roles = [...new Set(args.roles)];
        if (!roles.length) throw badUserInput('A user needs at least one role', 'no_roles');
        assertGrantable(deps.roles, viewer, roles);
        await revoke(ctx, viewer, { userId: args.userId }, 'roles_changed', 'ROLES_CHANGED', args.userId, async (tx) => {
          if (!(await updateRoles(tx, viewer.tenantId, args.userId, roles))) throw notFound('User not found');
        });
        return { __typename: 'User', id: args.userId, roles };
      },
      async setUserDisabled(_: unknown, args: { userId: string; disabled: boolean }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        checkManageable(viewer, args.userId);
        const apply = async (tx: Tx) => {
          if (!(await updateDisabled(tx, viewer.tenantId, args.userId, args.disabled))) throw notFound('User not found');
        };
        if (args.disabled) await revoke(ctx, viewer, { userId: args.userId }, 'user_disabled', 'USER_DISABLED', args.userId, apply);
        else
          await db.withTenant(viewer.tenantId, async (tx) => {
            await apply(tx);
            await insertAudit(tx, {
              tenantId: viewer.tenantId,
              userId: args.userId,
              sessionId: viewer.sessionId,
              clientAddress: ctx.forwarded.clientAddress,
              event: 'USER_ENABLED',
              outcome: 'SUCCESS',
            });
          });
        return { __typename: 'User', id: args.userId };
      },
    },
    AuditEvent: {
      user: (row: AuditRow) => (row.user_id ? { __typename: 'User', id: row.user_id } : null),
      sessionId: (row: AuditRow) => row.session_id,
      clientAddress: (row: AuditRow) => row.client_address,
      occurredAt: (row: AuditRow) => row.created_at,
    },
    User: {
      async __resolveReference(reference: { id: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        if (!isUuid(reference.id)) return null;
        // Every user of an _entities call in one statement of the caller's tenant.
        const rolesOf = requestLoader<string, { user_id: string; roles: string[] } | null>(ctx, 'roles', (ids) =>
          db.withTenant(viewer.tenantId, async (tx) => inKeyOrder(await findRolesOf(tx, viewer.tenantId, ids), ids, (row) => row.user_id)),
        );
        const found = await rolesOf.load(reference.id);
        return found ? { id: reference.id, roles: found.roles } : null;
      },
      async roles(user: { id: string; roles?: string[] }, _: unknown, ctx: Ctx) {
        if (user.roles) return user.roles;
        const viewer = requireViewer(ctx);
        return (await db.withTenant(viewer.tenantId, (tx) => findRoles(tx, viewer.tenantId, user.id))) ?? [];
      },
    },
  };
}
