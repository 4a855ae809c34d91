import { z } from 'zod';
import { loadSubgraphConfig } from '../kit';

interface ComplaintsEnv {
  REDIS_URL?: string;
  REDIS_KEY_PREFIX: string;
  REDIS_TIMEOUT_MS: number;
}

/**
 * The complaints subgraph's configuration: the variables every subgraph shares, and Redis for the events its
 * subscription publishes (without REDIS_URL they stay in this process: only a gateway in it hears them).
 */
export const loadConfig = (env: Record<string, string | undefined>) =>
  loadSubgraphConfig<ComplaintsEnv>('complaints', 4004, env, {
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    REDIS_KEY_PREFIX: z.string().min(1).max(100).default('gatehouse:'),
    REDIS_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  });
export type ComplaintsConfig = ReturnType<typeof loadConfig>;
