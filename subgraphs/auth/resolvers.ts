import { createHash, randomBytes } from 'node:crypto';
import { badUserInput, permissionsFor, unauthenticated, type AccessTokenIssuer } from '../../auth';
import { DateTime, isUuid, requireViewer, type Database, type SubgraphContext } from '../kit';
import * as data from './data/identities';

type Ctx = SubgraphContext;

export interface AuthResolverDeps {
  db: Database;
  issuer: AccessTokenIssuer;
  passwords: { check(hash: string | undefined, password: string): Promise<boolean> };
  sessionTtlSeconds: number;
}

const INVALID_CREDENTIALS = () => unauthenticated('invalid_credentials', 'Invalid email, password or tenant');

/** A new opaque refresh token (256 random bits) and the hash that is all the database keeps of it. */
function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: createHash('sha256').update(token).digest() };
}

export function createResolvers(deps: AuthResolverDeps) {
  const { db, issuer, passwords } = deps;
  return {
    DateTime,
    LoginResult: {
      __resolveType: (result: { challengeId?: string }) => (result.challengeId ? 'TwoFactorChallenge' : 'AuthSession'),
    },
    Query: {
      async viewer(_: unknown, __: unknown, ctx: Ctx) {
        if (!ctx.viewer) return null;
        const viewer = ctx.viewer;
        const session = await db.withTenant(viewer.tenantId, (tx) => data.findSession(tx, viewer.tenantId, viewer.sessionId));
        if (!session || session.revoked_at) throw unauthenticated('session_revoked', 'The session has ended');
        return {
          userId: viewer.id,
          tenantId: viewer.tenantId,
          roles: viewer.roles,
          permissions: permissionsFor(viewer.roles),
          sessionId: viewer.sessionId,
          sessionExpiresAt: session.expires_at,
          user: { __typename: 'User', id: viewer.id },
        };
      },
    },
    Mutation: {
      async login(_: unknown, args: { input: { email: string; password: string; tenant: string } }) {
        const { email, password, tenant } = args.input;
        if (email.length > 254 || password.length > 1024 || tenant.length > 64) throw badUserInput('Login input is too long');
        const tenantId = await db.withoutTenant((tx) => data.findTenantIdBySlug(tx, tenant.trim().toLowerCase()));
        const credential = tenantId ? await db.withTenant(tenantId, (tx) => data.findCredentialByEmail(tx, tenantId, email.trim())) : null;
        // Always one password verification, so unknown tenants and users cost what a wrong password costs.
        const ok = await passwords.check(credential?.password_hash, password);
        if (!ok || !credential || credential.disabled_at) throw INVALID_CREDENTIALS();

        const authTime = new Date();
        const refresh = newRefreshToken();
        const session = await db.withTenant(credential.tenant_id, (tx) =>
          data.insertSession(tx, {
            tenantId: credential.tenant_id,
            userId: credential.user_id,
            amr: ['pwd'],
            authTime,
            expiresAt: new Date(authTime.getTime() + deps.sessionTtlSeconds * 1000),
            refreshTokenHash: refresh.hash,
          }),
        );
        const access = await issuer.issue({
          userId: credential.user_id,
          tenantId: credential.tenant_id,
          roles: credential.roles,
          sessionId: session.id,
          amr: ['pwd'],
          authTime: Math.floor(authTime.getTime() / 1000),
        });
        return { accessToken: access.token, refreshToken: refresh.token, expiresIn: access.expiresIn, tokenType: 'Bearer' };
      },
    },
    User: {
      async __resolveReference(reference: { id: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        if (!isUuid(reference.id)) return null;
        const roles = await db.withTenant(viewer.tenantId, (tx) => data.findRoles(tx, viewer.tenantId, reference.id));
        return roles ? { id: reference.id, roles } : null;
      },
      async roles(user: { id: string; roles?: string[] }, _: unknown, ctx: Ctx) {
        if (user.roles) return user.roles;
        const viewer = requireViewer(ctx);
        return (await db.withTenant(viewer.tenantId, (tx) => data.findRoles(tx, viewer.tenantId, user.id))) ?? [];
      },
    },
  };
}
