import { allow, deny, rule } from 'graphql-shield';
import { forbidden, unauthenticated } from '../errors';
import { hasPermission, ROLES, type Permission, type Role } from '../permissions';
import type { ContextUser } from '../context/contextToken';

/** What every subgraph context carries for the rules: the verified caller, or null when anonymous. */
export interface RuleContext {
  viewer: ContextUser | null;
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
      return hasPermission(ctx.viewer.roles, permission) ? true : forbidden('missing_permission');
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
    return forbidden('not_owner');
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

export { ROLES };
