import { isNumericDate, isUuid, type ClaimMapping } from './claims';

/** How the claims of an external OpenID Connect provider's tokens map onto a Gatehouse principal. */
export interface ExternalClaimsConfig {
  /** Every token of this issuer belongs to this tenant (one identity provider per tenant)… */
  tenantId?: string;
  /** …or the claim that holds the tenant's id. */
  tenantClaim?: string;
  /** The claim holding the roles (an array, or a space-separated string), e.g. a namespaced `https://…/roles`. */
  rolesClaim: string;
  /** The provider's role names → Gatehouse roles; without it, the names are taken as they are (unknown ones are dropped). */
  roleMap?: Record<string, string>;
  /** The claim holding scopes granted directly (a space-separated string such as OAuth's `scope`, or an array). */
  scopeClaim?: string;
  /** The claim holding the user's id; default `sub`. */
  userIdClaim?: string;
}

/**
 * Builds the claim mapping of one external issuer. Roles the mapping does not know are dropped (never guessed);
 * a token without a tenant is refused. The session is the token's `sid`, else its `jti`, so revocation and the
 * signed context work as for Gatehouse's own tokens.
 */
export function createExternalClaimMapping(config: ExternalClaimsConfig): ClaimMapping {
  if (!config.tenantId && !config.tenantClaim) throw new TypeError('createExternalClaimMapping: "tenantId" or "tenantClaim" is required');
  const userIdClaim = config.userIdClaim ?? 'sub';
  // A Map, never a plain object: a provider role named `constructor` or `__proto__` must map to nothing.
  const roleMap = config.roleMap ? new Map(Object.entries(config.roleMap)) : undefined;
  const toRole = (name: string): string | undefined => (roleMap ? roleMap.get(name) : name || undefined);
  const names = (raw: unknown): string[] =>
    typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : [];
  return (payload) => {
    // Own claims only: a configured claim name such as `constructor` must not read the prototype.
    const claim = (name: string): unknown => (Object.hasOwn(payload, name) ? payload[name] : undefined);
    const userId = claim(userIdClaim);
    const tenantId = config.tenantId ?? claim(config.tenantClaim!);
    if (typeof userId !== 'string' || !userId || !isUuid(tenantId)) return undefined;
    const roles = [
      ...new Set(
        names(claim(config.rolesClaim))
          .map(toRole)
          .filter((role): role is string => role !== undefined),
      ),
    ];
    const grantedScopes = config.scopeClaim ? [...new Set(names(claim(config.scopeClaim)).filter(Boolean))].sort() : [];
    const sid = typeof payload.sid === 'string' && payload.sid ? payload.sid : undefined;
    const jti = typeof payload.jti === 'string' && payload.jti ? payload.jti : undefined;
    return {
      userId,
      tenantId,
      roles: Object.freeze(roles),
      sessionId: sid ?? jti ?? `${userId}@${payload.iat}`,
      tokenId: jti ?? '',
      ...(isNumericDate(payload.auth_time) ? { authTime: payload.auth_time } : {}),
      ...(grantedScopes.length ? { grantedScopes: Object.freeze(grantedScopes) } : {}),
      ...(Array.isArray(payload.amr) ? { amr: Object.freeze(payload.amr.filter((v): v is string => typeof v === 'string')) } : {}),
    };
  };
}
