import { allow, isAuthenticated, isOwnerOr } from '../../auth';

export const permissions = {
  Query: { viewer: allow }, // answers null for anonymous callers
  Mutation: { login: allow },
  AuthSession: { accessToken: allow, refreshToken: allow, expiresIn: allow, tokenType: allow },
  TwoFactorChallenge: { challengeId: allow, methods: allow },
  Viewer: {
    userId: isAuthenticated,
    tenantId: isAuthenticated,
    roles: isAuthenticated,
    permissions: isAuthenticated,
    sessionId: isAuthenticated,
    sessionExpiresAt: isAuthenticated,
    user: isAuthenticated,
  },
  User: { id: allow, roles: isOwnerOr('user.roles', (user: { id: string }) => user.id, 'user:read:roles') },
};
