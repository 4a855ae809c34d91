import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SubgraphConfig, SubgraphModule } from '../subgraphs/kit';
import { readSupergraphConfig, SUPERGRAPH_CONFIG } from './composition';

/** A subgraph of supergraph.yaml whose code lives in this repository (its folder holds subgraph.ts and config.ts). */
export interface LocalSubgraph {
  name: string;
  /** Its folder, e.g. subgraphs/records. */
  dir: string;
  module: SubgraphModule<any> & { defaultPort?: number };
  loadConfig(env: Record<string, string | undefined>): SubgraphConfig;
  /** The port it listens on by default (its routing_url's). */
  defaultPort: number;
  /** Its place in supergraph.yaml, 1 for the first: under PORT_BASE it listens on PORT_BASE + position. */
  position: number;
}

/**
 * The subgraphs `npm start` and the test stack run: every subgraph listed in supergraph.yaml whose schema file sits
 * in a folder with a subgraph.ts (a subgraph served from elsewhere is only composed and routed to). The one list is
 * supergraph.yaml: adding a subgraph there is all the launcher needs.
 */
export function localSubgraphs(configPath = SUPERGRAPH_CONFIG): LocalSubgraph[] {
  return readSupergraphConfig(configPath).flatMap((entry, index) => {
    const dir = dirname(entry.schemaFile);
    if (!existsSync(join(dir, 'subgraph.ts')) || !existsSync(join(dir, 'config.ts'))) return [];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(join(dir, 'subgraph.ts')) as LocalSubgraph['module'];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadConfig } = require(join(dir, 'config.ts')) as Pick<LocalSubgraph, 'loadConfig'>;
    if (module.name !== entry.name)
      throw new Error(`${dir}/subgraph.ts exports name "${module.name}", but supergraph.yaml calls it "${entry.name}"`);
    const defaultPort = module.defaultPort ?? (Number(new URL(entry.routingUrl).port) || 4000);
    return [{ name: entry.name, dir, module, loadConfig, defaultPort, position: index + 1 }];
  });
}
