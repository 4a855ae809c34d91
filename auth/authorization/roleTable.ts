import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * The roles file (roles.yaml beside supergraph.yaml): which scopes each role grants. Data, not code: the gateway
 * reads it, computes each caller's scopes once per token and signs them into the context; subgraphs only ever see
 * scopes. Roles are listed from the least to the most powerful.
 */
export interface RoleTable {
  /** Role names, in the file's order (least powerful first). */
  readonly roles: readonly string[];
  /** Every scope the file declares, with its description. */
  readonly scopes: ReadonlyMap<string, string>;
  /** True when `name` is a role of the table. */
  isRole(name: unknown): name is string;
  /** The scopes `role` grants (its own and those of the roles it includes), sorted; empty for an unknown role. */
  scopesOfRole(role: string): readonly string[];
  /**
   * The union of the scopes of `roles` and of `extra` (scopes an external provider granted directly; only those the
   * file declares count), sorted. Memoised per distinct input: a token's caller costs one lookup.
   */
  scopesOf(roles: readonly string[], extra?: readonly string[]): readonly string[];
}

/** A role file that cannot be used; its message names the file and every problem. */
export class RoleTableError extends Error {
  name = 'RoleTableError';
}

const SCOPE = /^[a-z][a-z0-9]*(?::[a-z0-9][a-z0-9_-]*)*$/;
const ROLE = /^[A-Z][A-Z0-9_]*$/;

/** Parses the text of a roles file. Throws RoleTableError naming `source` and each problem. */
export function parseRoleTable(text: string, source = 'roles.yaml'): RoleTable {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new RoleTableError(`${source}: ${(error as Error).message.split('\n')[0]}`);
  }
  const problems: string[] = [];
  const doc = (raw ?? {}) as { scopes?: unknown; roles?: unknown };
  const scopes = new Map<string, string>();
  if (!doc.scopes || typeof doc.scopes !== 'object' || Array.isArray(doc.scopes))
    problems.push('"scopes" must be a map of scope → description');
  else {
    for (const [scope, description] of Object.entries(doc.scopes)) {
      if (!SCOPE.test(scope)) problems.push(`scope "${scope}" must look like resource:action (lowercase, colon-separated)`);
      else scopes.set(scope, typeof description === 'string' ? description : '');
    }
  }
  const declared = new Map<string, { includes: string[]; scopes: string[] }>();
  if (!doc.roles || typeof doc.roles !== 'object' || Array.isArray(doc.roles))
    problems.push('"roles" must be a map of role → { scopes, includes }');
  else {
    for (const [role, entry] of Object.entries(doc.roles as Record<string, { scopes?: unknown; includes?: unknown } | null>)) {
      if (!ROLE.test(role)) problems.push(`role "${role}" must be UPPER_SNAKE`);
      const list = (value: unknown, what: string) => {
        if (value === undefined) return [];
        if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
        problems.push(`role ${role}: "${what}" must be a list of names`);
        return [];
      };
      const own = list(entry?.scopes, 'scopes');
      for (const scope of own) if (!scopes.has(scope)) problems.push(`role ${role} grants "${scope}", which "scopes" does not declare`);
      declared.set(role, { includes: list(entry?.includes, 'includes'), scopes: own });
    }
  }
  const resolved = new Map<string, readonly string[]>();
  const resolve = (role: string, path: string[]): Set<string> => {
    const entry = declared.get(role)!;
    const granted = new Set(entry.scopes);
    for (const included of entry.includes) {
      if (!declared.has(included)) problems.push(`role ${role} includes "${included}", which is not a role`);
      else if (path.includes(included)) problems.push(`roles include each other in a cycle: ${[...path, included].join(' → ')}`);
      else for (const scope of resolve(included, [...path, included])) granted.add(scope);
    }
    return granted;
  };
  for (const role of declared.keys()) resolved.set(role, Object.freeze([...resolve(role, [role])].sort()));
  if (problems.length) throw new RoleTableError(`${source}:\n${[...new Set(problems)].map((problem) => `  - ${problem}`).join('\n')}`);

  const roles = Object.freeze([...declared.keys()]);
  const memo = new Map<string, readonly string[]>();
  const empty: readonly string[] = Object.freeze([]);
  return Object.freeze({
    roles,
    scopes,
    isRole: (name: unknown): name is string => typeof name === 'string' && resolved.has(name),
    scopesOfRole: (role: string) => resolved.get(role) ?? empty,
    scopesOf(roleNames: readonly string[], extra: readonly string[] = empty) {
      const key = extra.length ? `${roleNames.join(' ')}|${extra.join(' ')}` : roleNames.join(' ');
      let granted = memo.get(key);
      if (!granted) {
        const union = new Set<string>();
        for (const role of roleNames) for (const scope of resolved.get(role) ?? empty) union.add(scope);
        for (const scope of extra) if (scopes.has(scope)) union.add(scope);
        granted = Object.freeze([...union].sort());
        // Bounded: role combinations are few, but external scope claims are the provider's to choose.
        if (memo.size >= 1000) memo.clear();
        memo.set(key, granted);
      }
      return granted;
    },
  });
}

/** Reads and parses a roles file. Throws RoleTableError (unreadable or invalid). */
export function loadRoleTable(file: string): RoleTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RoleTableError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseRoleTable(text, file);
}
