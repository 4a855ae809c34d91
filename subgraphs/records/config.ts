import { loadSubgraphConfig } from '../kit';

/** The records subgraph's configuration (the variables every subgraph shares; see README). */
export const loadConfig = (env: Record<string, string | undefined>) => loadSubgraphConfig('records', 4003, env);
