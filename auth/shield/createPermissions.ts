import { allow, deny, shield } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import { forbidden } from '../errors';

/**
 * The federation fields every subgraph must answer for the gateway. They are allowed here and nowhere else;
 * the request itself has already passed the subgraph's check of the gateway's signature.
 * Entity key fields are listed by each subgraph with its own types.
 */
export const FEDERATION_RULES = {
  Query: { _service: allow, _entities: allow },
  _Service: { sdl: allow },
} as const;

type RuleTree = Record<string, Record<string, unknown>>;

/** Merges a subgraph's rule tree with the federation rules. */
export function withFederationRules(rules: RuleTree): RuleTree {
  const merged: RuleTree = { ...rules };
  for (const [type, fields] of Object.entries(FEDERATION_RULES)) merged[type] = { ...fields, ...(merged[type] ?? {}) };
  return merged;
}

/**
 * graphql-shield with the house defaults, which differ from the library's unsafe ones: deny every field that has no
 * rule (fallbackRule deny) with a coded FORBIDDEN error, and let coded resolver errors through instead of masking
 * them (the subgraph's error formatter masks anything uncoded).
 */
export function createPermissions(rules: RuleTree) {
  return shield(withFederationRules(rules) as IRules, {
    fallbackRule: deny, // graphql-shield's own default is allow
    allowExternalErrors: true,
    debug: false,
    fallbackError: () => forbidden('no_rule', undefined, 'fallback-deny'),
  });
}
