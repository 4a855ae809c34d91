import { allow, and, deny, rule } from 'graphql-shield';
import { ErrorCode, forbidden, gatehouseError, unauthenticated } from '../errors';
import { hasPermission, ROLES, type Permission, type Role } from '../permissions';
import type { ContextUser } from '../context/contextToken';

/** What every subgraph context carries for the rules: the verified caller, or null when anonymous. */
export interface RuleContext {
  viewer: ContextUser | null;
  /** How recent a second factor must be for sensitive operations (STEP_UP_MAX_AGE_SECONDS). */
  stepUpMaxAgeSeconds?: number;
}

/** The authentication method a step-up requires (RFC 8176). */
export const STEP_UP_AMR = 'otp';
const DEFAULT_STEP_UP_MAX_AGE_SECONDS = 900;

/** STEP_UP_REQUIRED, telling the frontend what to ask for: a code (`requiredAmr`) no older than `maxAgeSeconds`. */
export function stepUpRequired(maxAgeSeconds: number) {
  return gatehouseError(ErrorCode.STEP_UP_REQUIRED, 'This operation needs a recent second factor', {
    reason: 'step_up_required',
    extensions: { requiredAmr: [STEP_UP_AMR], maxAgeSeconds },
  });
}

/** True when the caller proved a second factor within the step-up window. */
export function hasRecentSecondFactor(viewer: ContextUser, maxAgeSeconds: number, nowMs = Date.now()): boolean {
  return Boolean(viewer.amr?.includes(STEP_UP_AMR) && viewer.authTime !== undefined && nowMs / 1000 - viewer.authTime <= maxAgeSeconds);
}

export { allow, deny, rule };

type ShieldRule = ReturnType<ReturnType<typeof rule>>;

/** What a rule grants to a caller of one role (null: anonymous), as shown in the README's permission matrix. */
export type Grant = 'yes' | 'no' | 'own' | string;
const grants = new WeakMap<object, (role: Role | null) => Grant>();

/** Records what `shieldRule` grants each role, for the generated permission matrix. Returns the rule. */
export function documentRule<R extends object>(shieldRule: R, grant: (role: Role | null) => Grant): R {
  grants.set(shieldRule, grant);
  return shieldRule;
}

/** What `shieldRule` grants to `role`, or undefined for a rule nobody documented. */
export function grantOf(shieldRule: object, role: Role | null): Grant | undefined {
  return grants.get(shieldRule)?.(role);
}

documentRule(allow, () => 'yes');
documentRule(deny, () => 'no');

/** Any signed-in caller. Anonymous callers get UNAUTHENTICATED, not FORBIDDEN, so a frontend knows to log in. */
export const isAuthenticated = documentRule(
  rule('authenticated', { cache: 'contextual' })((_parent, _args, ctx: RuleContext) =>
    ctx.viewer ? true : unauthenticated('login_required'),
  ),
  (role) => (role ? 'yes' : 'no'),
);

// One rule instance per permission: graphql-shield refuses two rules of the same name in one tree.
const permissionRules = new Map<Permission, ShieldRule>();

/** A signed-in caller whose roles grant `permission` (see auth/permissions.ts). */
export function can(permission: Permission): ShieldRule {
  let permissionRule = permissionRules.get(permission);
  if (!permissionRule) {
    permissionRule = rule(`can:${permission}`, { cache: 'contextual' })((_parent, _args, ctx: RuleContext) => {
      if (!ctx.viewer) return unauthenticated('login_required');
      return hasPermission(ctx.viewer.roles, permission) ? true : forbidden('missing_permission', undefined, `can:${permission}`);
    });
    documentRule(permissionRule, (role) => (role && hasPermission([role], permission) ? 'yes' : 'no'));
    permissionRules.set(permission, permissionRule);
  }
  return permissionRule;
}

/**
 * The caller owns the parent object, or holds `permission`. `ownerOf` reads the owner's user id from the parent.
 * Object-dependent, so never cached across objects (no alias tricks).
 */
export function isOwnerOr<P>(name: string, ownerOf: (parent: P) => string | null | undefined, permission?: Permission): ShieldRule {
  const ownerRule = rule(`owner:${name}${permission ? `|${permission}` : ''}`, { cache: 'no_cache' })((
    parent: P,
    _args,
    ctx: RuleContext,
  ) => {
    if (!ctx.viewer) return unauthenticated('login_required');
    if (ownerOf(parent) === ctx.viewer.id) return true;
    if (permission && hasPermission(ctx.viewer.roles, permission)) return true;
    return forbidden('not_owner', undefined, `owner:${name}`);
  });
  return documentRule(ownerRule, (role) => (!role ? 'no' : permission && hasPermission([role], permission) ? 'yes' : 'own'));
}

const targetRules = new Map<Permission, ShieldRule>();

/**
 * For mutations on an existing object: any signed-in caller passes the field rule, and the resolver checks,
 * against the row it locks for the change, that the caller owns the target or holds `permission`.
 */
export function ownsTargetOr(permission: Permission): ShieldRule {
  let targetRule = targetRules.get(permission);
  if (!targetRule) {
    targetRule = rule(`owns-target:${permission}`, { cache: 'contextual' })((_parent, _args, ctx: RuleContext) =>
      ctx.viewer ? true : unauthenticated('login_required'),
    );
    documentRule(targetRule, (role) => (!role ? 'no' : hasPermission([role], permission) ? 'yes' : 'own'));
    targetRules.set(permission, targetRule);
  }
  return targetRule;
}

const recentSecondFactor = rule('recent-second-factor', { cache: 'contextual' })((_parent, _args, ctx: RuleContext) => {
  if (!ctx.viewer) return unauthenticated('login_required');
  const maxAge = ctx.stepUpMaxAgeSeconds ?? DEFAULT_STEP_UP_MAX_AGE_SECONDS;
  return hasRecentSecondFactor(ctx.viewer, maxAge) ? true : stepUpRequired(maxAge);
});

/**
 * A sensitive operation: `inner` must allow it (its FORBIDDEN wins) and the caller must have proved a second factor
 * recently (else STEP_UP_REQUIRED with what to provide).
 */
export function withStepUp(inner: ShieldRule): ShieldRule {
  const combined = and(inner, recentSecondFactor) as unknown as ShieldRule;
  return documentRule(combined, (role) => {
    const grant = grantOf(inner, role);
    return grant === 'no' || grant === undefined ? 'no' : `${grant === 'yes' ? '✓' : grant} + 2FA`;
  });
}

export { ROLES };
