import { allow, deny, rule } from 'graphql-shield';
import { forbidden, unauthenticated } from '../errors';
import { hasPermission, type Permission } from '../permissions';
import type { ContextUser } from '../context/contextToken';

/** What every subgraph context carries for the rules: the verified caller, or null when anonymous. */
export interface RuleContext {
  viewer: ContextUser | null;
}

export { allow, deny, rule };

/** Any signed-in caller. Anonymous callers get UNAUTHENTICATED, not FORBIDDEN, so a frontend knows to log in. */
export const isAuthenticated = rule({ cache: 'contextual' })((_parent, _args, ctx: RuleContext) =>
  ctx.viewer ? true : unauthenticated('login_required'),
);

// One rule instance per permission: graphql-shield refuses two rules of the same name in one tree.
const permissionRules = new Map<Permission, ReturnType<ReturnType<typeof rule>>>();

/** A signed-in caller whose roles grant `permission` (see auth/permissions.ts). */
export function can(permission: Permission) {
  let permissionRule = permissionRules.get(permission);
  if (!permissionRule) {
    permissionRule = rule(`can:${permission}`, { cache: 'contextual' })((_parent, _args, ctx: RuleContext) => {
      if (!ctx.viewer) return unauthenticated('login_required');
      return hasPermission(ctx.viewer.roles, permission) ? true : forbidden('missing_permission');
    });
    permissionRules.set(permission, permissionRule);
  }
  return permissionRule;
}

/**
 * The caller owns the parent object, or holds `permission`. `ownerOf` reads the owner's user id from the parent.
 * Object-dependent, so never cached across objects (no alias tricks).
 */
export function isOwnerOr<P>(name: string, ownerOf: (parent: P) => string | null | undefined, permission?: Permission) {
  return rule(`owner:${name}${permission ? `|${permission}` : ''}`, { cache: 'no_cache' })((parent: P, _args, ctx: RuleContext) => {
    if (!ctx.viewer) return unauthenticated('login_required');
    if (ownerOf(parent) === ctx.viewer.id) return true;
    if (permission && hasPermission(ctx.viewer.roles, permission)) return true;
    return forbidden('not_owner');
  });
}
