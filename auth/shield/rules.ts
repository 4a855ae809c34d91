import { allow, deny, rule, shield } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import type { DocumentNode, GraphQLResolveInfo } from 'graphql';
import { ErrorCode, forbidden, gatehouseError, unauthenticated } from '../errors';
import type { ContextUser } from '../context/contextToken';
import { decide, isCallerPolicy, readRequirements, type Caller, type Decision, type Requirement } from '../authorization/requirements';

/** What every subgraph context carries for the rules: the verified caller, or null when anonymous. */
export interface RuleContext {
  viewer: ContextUser | null;
  /** How recent a second factor must be for sensitive operations (STEP_UP_MAX_AGE_SECONDS). */
  stepUpMaxAgeSeconds?: number;
}

/** The authentication method a step-up requires (RFC 8176). */
export const STEP_UP_AMR = 'otp';
export const DEFAULT_STEP_UP_MAX_AGE_SECONDS = 900;

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

/** True when the caller's scopes (computed by the gateway from the roles file, signed in the context) hold `scope`. */
export function hasScope(viewer: ContextUser | null | undefined, scope: string): boolean {
  return Boolean(viewer?.scopes.includes(scope));
}

/** The caller as `decide` sees it. */
export function callerOf(viewer: ContextUser | null, stepUpMaxAgeSeconds = DEFAULT_STEP_UP_MAX_AGE_SECONDS, nowMs = Date.now()): Caller {
  return {
    authenticated: viewer !== null,
    hasScope: (scope) => hasScope(viewer, scope),
    get steppedUp() {
      return viewer !== null && hasRecentSecondFactor(viewer, stepUpMaxAgeSeconds, nowMs);
    },
  };
}

/** The coded error of a refusal. */
export function refusalError(decision: Extract<Decision, { outcome: 'deny' }>, stepUpMaxAgeSeconds: number, rule?: string) {
  if (decision.code === 'UNAUTHENTICATED') return unauthenticated(decision.reason);
  if (decision.code === 'STEP_UP_REQUIRED') return stepUpRequired(stepUpMaxAgeSeconds);
  return forbidden(decision.reason, undefined, rule);
}

/**
 * An object policy (a `@policy` name that needs the object): decides for one object, from the field's parent, its
 * arguments and the caller. On a root Mutation field there is no object yet: the resolver decides against the row it
 * locks for the change, and the policy says so by returning true.
 */
export type ObjectPolicy = (parent: any, args: any, ctx: RuleContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

/** The federation fields every subgraph must answer for the gateway (its signature is already checked). */
const FEDERATION_RULES = { Query: { _service: allow, _entities: allow }, _Service: { sdl: allow } } as const;

/** The rule of one requirement: caller checks (cached per request), then the object policies (per object). */
function ruleFor(requirement: Requirement, policies: Readonly<Record<string, ObjectPolicy>>) {
  const perObject = requirement.policies?.some((group) => group.some((policy) => !isCallerPolicy(policy))) ?? false;
  return rule(`requires:${requirement.key}`, { cache: perObject ? 'no_cache' : 'contextual' })(
    async (parent, args, ctx: RuleContext, info) => {
      const maxAge = ctx.stepUpMaxAgeSeconds ?? DEFAULT_STEP_UP_MAX_AGE_SECONDS;
      const decision = decide(requirement, callerOf(ctx.viewer, maxAge));
      if (decision.outcome === 'allow') return true;
      if (decision.outcome === 'deny') return refusalError(decision, maxAge, requirement.key);
      for (const group of decision.groups) {
        let met = true;
        for (const name of group) if ((await policies[name](parent, args, ctx, info)) !== true) met = false;
        if (met) return true;
      }
      return forbidden(
        decision.groups.every((group) => group.includes('owner')) ? 'not_owner' : 'policy_not_met',
        undefined,
        requirement.key,
      );
    },
  );
}

/**
 * graphql-shield rules generated from a subgraph's own SDL directives (see auth/authorization/requirements.ts), with
 * the house defaults instead of the library's unsafe ones: deny every field without a rule (fallbackRule) with a coded
 * FORBIDDEN, and let coded resolver errors through instead of masking them as "Not Authorised!".
 * `policies` implements each object policy the SDL names; a missing one is a start-up error (TypeError).
 */
export function createSchemaPermissions(typeDefs: DocumentNode, policies: Readonly<Record<string, ObjectPolicy>> = {}) {
  const requirements = readRequirements(typeDefs);
  const tree: Record<string, Record<string, unknown>> = {};
  const rules = new Map<string, ReturnType<typeof ruleFor>>();
  for (const [path, requirement] of requirements) {
    for (const group of requirement.policies ?? []) {
      for (const policy of group) {
        // Own properties only: a policy named `constructor` must not find Object's.
        if (!isCallerPolicy(policy) && !(Object.hasOwn(policies, policy) && typeof policies[policy] === 'function')) {
          throw new TypeError(`${path}: the SDL names the object policy "${policy}", which the subgraph does not implement`);
        }
      }
    }
    if (!requirement.ruled) continue; // no rule: the fallback denies it
    let fieldRule = rules.get(requirement.key);
    if (!fieldRule) rules.set(requirement.key, (fieldRule = ruleFor(requirement, policies)));
    const [type, field] = path.split('.');
    (tree[type] ??= {})[field] = fieldRule;
  }
  for (const [type, fields] of Object.entries(FEDERATION_RULES)) tree[type] = { ...fields, ...(tree[type] ?? {}) };
  return shield(tree as IRules, {
    fallbackRule: deny, // the library's default is allow
    allowExternalErrors: true,
    debug: false,
    fallbackError: () => forbidden('no_rule', undefined, 'fallback-deny'),
  });
}
