import { loadSubgraphConfig } from '../kit';

/** The users subgraph's configuration (the variables every subgraph shares; see README). */
export const loadConfig = (env: Record<string, string | undefined>) => loadSubgraphConfig('users', 4002, env);
