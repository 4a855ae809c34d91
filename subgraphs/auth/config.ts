import { z } from 'zod';
import { loadSubgraphConfig } from '../kit';

interface AuthEnv {
  TOKEN_ISSUER: string;
  TOKEN_AUDIENCE: string;
  ACCESS_TOKEN_TTL_SECONDS: number;
  SESSION_TTL_SECONDS: number;
  AUTH_SIGNING_KEY_FILE?: string;
}

/**
 * The auth subgraph's configuration: the shared subgraph variables plus token settings. In production the
 * signing key must come from AUTH_SIGNING_KEY_FILE (PKCS#8 PEM); development generates one in DATA_DIR.
 */
export function loadConfig(env: Record<string, string | undefined>) {
  return loadSubgraphConfig<AuthEnv>(
    'auth',
    4001,
    env,
    {
      TOKEN_ISSUER: z.url().default('http://localhost:4001'),
      TOKEN_AUDIENCE: z.string().min(1).default('gatehouse'),
      ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
      SESSION_TTL_SECONDS: z.coerce
        .number()
        .int()
        .min(3600)
        .max(90 * 86_400)
        .default(30 * 86_400),
      AUTH_SIGNING_KEY_FILE: z.string().min(1).optional(),
    },
    ['AUTH_SIGNING_KEY_FILE'],
  );
}
export type AuthConfig = ReturnType<typeof loadConfig>;
