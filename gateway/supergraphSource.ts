import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import type { SupergraphSdlHook } from '@apollo/gateway';

export interface SupergraphSourceLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Serves supergraph.graphql to Apollo Gateway and switches to a new version when the file changes, without a
 * restart. Apollo Gateway validates each update and keeps the previous schema when the new one is invalid;
 * operations already executing finish on the schema they started with.
 */
export function createSupergraphSource(options: { path: string; pollMs: number; log: SupergraphSourceLogger }): SupergraphSdlHook {
  return async ({ update }) => {
    let current = await readFile(options.path, 'utf8');
    let checking = Promise.resolve();
    const check = async () => {
      let next: string;
      try {
        next = await readFile(options.path, 'utf8');
      } catch (error) {
        options.log.error({ err: error }, 'supergraph file unreadable; keeping the current schema');
        return;
      }
      if (next === current || next.trim() === '') return;
      try {
        update(next);
        current = next;
        options.log.info({ bytes: next.length }, 'supergraph reloaded');
      } catch (error) {
        options.log.error({ err: error }, 'supergraph update refused; keeping the current schema');
      }
    };
    if (options.pollMs > 0) {
      watchFile(options.path, { interval: options.pollMs, persistent: false }, () => {
        checking = checking.then(check);
      });
    }
    return {
      supergraphSdl: current,
      cleanup: async () => {
        unwatchFile(options.path);
        await checking;
      },
    };
  };
}
