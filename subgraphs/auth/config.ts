import { z } from 'zod';
import { ACCESS_TOKEN_ALGORITHMS, DEFAULT_ACCESS_TOKEN_ALGORITHM, type AccessTokenAlgorithm } from '../../auth';
import { loadSubgraphConfig } from '../kit';

interface AuthEnv {
  TOKEN_ISSUER: string;
  TOKEN_AUDIENCE: string;
  ACCESS_TOKEN_TTL_SECONDS: number;
  ACCESS_TOKEN_ALG: AccessTokenAlgorithm;
  SESSION_TTL_SECONDS: number;
  AUTH_KEY_ENCRYPTION_KEY?: string;
  KEY_ACTIVATION_DELAY_SECONDS: number;
  KEY_RELOAD_MS: number;
  REDIS_URL?: string;
  REDIS_KEY_PREFIX: string;
  REDIS_TIMEOUT_MS: number;
  REVOCATION_RETENTION_SECONDS: number;
  LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: number;
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS: number;
  LOGIN_THROTTLE_WINDOW_SECONDS: number;
  CHALLENGE_TTL_SECONDS: number;
  REFRESH_REUSE_GRACE_SECONDS: number;
  REFRESH_COOKIE_PATH: string;
  ROLES_PATH: string;
}

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const DAY = 86_400;

/**
 * The auth subgraph's configuration: the shared subgraph variables plus tokens, keys, throttling and revocation.
 * In production AUTH_KEY_ENCRYPTION_KEY (which encrypts signing keys and TOTP secrets at rest) is required;
 * development generates one in DATA_DIR.
 */
export function loadConfig(env: Record<string, string | undefined>) {
  return loadSubgraphConfig<AuthEnv>(
    'auth',
    4001,
    env,
    {
      TOKEN_ISSUER: z.url().default('http://localhost:4001'),
      TOKEN_AUDIENCE: z.string().min(1).default('gatehouse'),
      ACCESS_TOKEN_TTL_SECONDS: int(60, 3600, 900),
      ACCESS_TOKEN_ALG: z.enum(ACCESS_TOKEN_ALGORITHMS).default(DEFAULT_ACCESS_TOKEN_ALGORITHM),
      SESSION_TTL_SECONDS: int(3600, 90 * DAY, 30 * DAY),
      AUTH_KEY_ENCRYPTION_KEY: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url text')
        .refine((value) => Buffer.from(value, 'base64url').length === 32, 'must hold exactly 32 bytes')
        .optional(),
      KEY_ACTIVATION_DELAY_SECONDS: int(0, DAY, 120),
      KEY_RELOAD_MS: int(100, 600_000, 10_000),
      REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
      REDIS_KEY_PREFIX: z.string().min(1).max(100).default('gatehouse:'),
      REDIS_TIMEOUT_MS: int(1, 10_000, 50),
      REVOCATION_RETENTION_SECONDS: int(600, 7 * DAY, 3600),
      LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: int(1, 10_000, 10),
      LOGIN_MAX_ATTEMPTS_PER_ADDRESS: int(1, 1_000_000, 100),
      LOGIN_THROTTLE_WINDOW_SECONDS: int(1, DAY, 900),
      CHALLENGE_TTL_SECONDS: int(30, 3600, 300),
      REFRESH_REUSE_GRACE_SECONDS: int(0, 60, 5),
      REFRESH_COOKIE_PATH: z.string().startsWith('/').default('/graphql'),
      /** The roles file: which roles a caller may grant (none holding a scope they lack). */
      ROLES_PATH: z.string().min(1).default('roles.yaml'),
    },
    ['AUTH_KEY_ENCRYPTION_KEY'],
  );
}
export type AuthConfig = ReturnType<typeof loadConfig>;
