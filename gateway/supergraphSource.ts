import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import type { SupergraphSdlHook } from '@apollo/gateway';

export interface SupergraphSourceLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The SECURITY features of the supergraph that Gatehouse enforces itself (gateway/enforceAuthorization.ts). */
const ENFORCED_SECURITY_FEATURES = [
  'https://specs.apollo.dev/authenticated/v0.1',
  'https://specs.apollo.dev/requiresScopes/v0.1',
  'https://specs.apollo.dev/policy/v0.1',
];

/**
 * Apollo Gateway refuses a supergraph that links a feature `for: SECURITY`, because it cannot enforce one. Gatehouse
 * enforces these three before planning, so their links are handed to it without the purpose; any other SECURITY
 * feature is still refused.
 */
export function acknowledgeEnforcedFeatures(sdl: string): string {
  let result = sdl;
  for (const url of ENFORCED_SECURITY_FEATURES) result = result.replace(`@link(url: "${url}", for: SECURITY)`, `@link(url: "${url}")`);
  return result;
}

/**
 * Serves supergraph.graphql to Apollo Gateway and switches to a new version when the file changes, without a
 * restart. Apollo Gateway validates each update and keeps the previous schema when the new one is invalid;
 * operations already executing finish on the schema they started with.
 */
export function createSupergraphSource(options: { path: string; pollMs: number; log: SupergraphSourceLogger }): SupergraphSdlHook {
  return async ({ update }) => {
    let current = await readFile(options.path, 'utf8');
    let served = acknowledgeEnforcedFeatures(current);
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
        served = acknowledgeEnforcedFeatures(next);
        update(served);
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
      supergraphSdl: served,
      cleanup: async () => {
        unwatchFile(options.path);
        await checking;
      },
    };
  };
}
