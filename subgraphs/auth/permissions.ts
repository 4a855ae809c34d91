import { allow, can, isAuthenticated, isOwnerOr, withStepUp } from '../../auth';

const publicFields = <K extends string>(...fields: K[]) =>
  Object.fromEntries(fields.map((field) => [field, allow])) as Record<K, typeof allow>;

export const permissions = {
  Query: {
    viewer: allow, // answers null for anonymous callers
    auditEvents: can('audit:read'),
  },
  Mutation: {
    // Anonymous by nature: each checks its own credential (password, challenge, refresh token) and is throttled.
    login: allow,
    verifyLoginCode: allow,
    refreshSession: allow,
    logout: isAuthenticated,
    logoutEverywhere: isAuthenticated,
    startTotpEnrolment: isAuthenticated,
    confirmTotpEnrolment: isAuthenticated,
    disableTotp: isAuthenticated,
    changePassword: isAuthenticated, // checks the current password, and a recent second factor where one is enrolled
    stepUpSession: isAuthenticated,
    acceptInvitation: allow, // checks its own invitation token and is throttled
    // Sensitive: a recent second factor is required on top of the role (STEP_UP_REQUIRED otherwise).
    revokeUserSessions: withStepUp(can('session:revoke:any')),
    revokeTenantSessions: withStepUp(can('session:revoke:any')),
    setUserRoles: withStepUp(can('user:manage')),
    setUserDisabled: withStepUp(can('user:manage')),
    inviteUser: withStepUp(can('user:manage')),
    resetUserPassword: withStepUp(can('user:manage')),
  },
  AuthSession: publicFields('accessToken', 'refreshToken', 'expiresIn', 'tokenType', 'sessionExpiresAt'),
  TwoFactorChallenge: publicFields('challengeId', 'methods'),
  TotpEnrolment: { secret: isAuthenticated, otpauthUri: isAuthenticated },
  Viewer: {
    userId: isAuthenticated,
    tenantId: isAuthenticated,
    roles: isAuthenticated,
    permissions: isAuthenticated,
    sessionId: isAuthenticated,
    sessionExpiresAt: isAuthenticated,
    authenticationMethods: isAuthenticated,
    issuer: isAuthenticated,
    user: isAuthenticated,
  },
  User: { id: allow, roles: isOwnerOr('user.roles', (user: { id: string }) => user.id, 'user:read:roles') },
  AuditEvent: {
    id: can('audit:read'),
    event: can('audit:read'),
    outcome: can('audit:read'),
    reason: can('audit:read'),
    user: can('audit:read'),
    sessionId: can('audit:read'),
    clientAddress: can('audit:read'),
    occurredAt: can('audit:read'),
  },
  Invitation: { userId: can('user:manage'), invitationToken: can('user:manage'), expiresAt: can('user:manage') },
  AuditEventConnection: { nodes: can('audit:read'), pageInfo: can('audit:read') },
  PageInfo: { hasNextPage: allow, endCursor: allow },
};
