import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import { loadRoleTable, parseRoleTable, type RoleTable } from '../auth';

export interface RoleSource {
  /** The roles file as last read successfully. */
  readonly table: RoleTable;
  /** Bumped on each successful reload: scopes computed from an older table are recomputed. */
  readonly generation: number;
  close(): void;
}

/**
 * The roles file (ROLES_PATH), read at start-up (an unusable file stops the gateway with a message naming each
 * problem) and reloaded when it changes, like the supergraph: an unusable new version is logged and the current
 * table stays in use.
 */
export function createRoleSource(options: {
  path: string;
  pollMs: number;
  log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}): RoleSource {
  let table = loadRoleTable(options.path);
  let generation = 1;
  let checking = Promise.resolve();
  const reload = async () => {
    try {
      const next = parseRoleTable(await readFile(options.path, 'utf8'), options.path);
      table = next;
      generation += 1;
      options.log.info({ roles: next.roles.length, scopes: next.scopes.size }, 'roles file reloaded');
    } catch (error) {
      options.log.error({ error: (error as Error).message }, 'roles file refused; keeping the current one');
    }
  };
  if (options.pollMs > 0) {
    watchFile(options.path, { interval: options.pollMs, persistent: false }, () => {
      checking = checking.then(reload);
    });
  }
  return {
    get table() {
      return table;
    },
    get generation() {
      return generation;
    },
    close: () => unwatchFile(options.path),
  };
}
