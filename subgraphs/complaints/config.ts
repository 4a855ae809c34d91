import { loadSubgraphConfig } from '../kit';

/** The complaints subgraph's configuration (the variables every subgraph shares; see README). */
export const loadConfig = (env: Record<string, string | undefined>) => loadSubgraphConfig('complaints', 4004, env);
