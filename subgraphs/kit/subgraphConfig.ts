import { z } from 'zod';
import type { StartupContext } from '../../service/startupError';

export class ConfigError extends Error {
  name = 'ConfigError';
}

/** One line per bad variable, for the start-up message. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `  - ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
}

const booleanString = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const base64urlSecret = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url text')
  .refine((value) => Buffer.from(value, 'base64url').length >= 32, 'must hold at least 32 bytes');

interface BaseSubgraphEnv {
  NODE_ENV: 'development' | 'production' | 'test';
  PORT: number;
  /** Prometheus metrics, apart from the public port; default the service's port + 5400 (auth 9401, …). */
  METRICS_PORT: number;
  /** How long a subgraph remembers an Idempotency-Key and its answer. */
  IDEMPOTENCY_KEY_TTL_SECONDS: number;
  HOST: string;
  LOG_LEVEL: string;
  DATABASE_URL?: string;
  DATA_DIR: string;
  CONTEXT_KEY?: string;
  SEED_DEMO_DATA?: boolean;
  STEP_UP_MAX_AGE_SECONDS: number;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
}

/**
 * Parses the variables every subgraph shares, plus `extra` fields of one subgraph (and the variables it names as
 * `requiredInProduction`), and fails with one message
 * naming every bad variable. In production CONTEXT_KEY (this subgraph's derived key) is required; in development
 * it may be omitted and is then derived from the development secret kept in DATA_DIR. The result is frozen.
 */
export function loadSubgraphConfig<Extra extends object = {}>(
  name: string,
  defaultPort: number,
  env: Record<string, string | undefined>,
  extra: z.ZodRawShape = {},
  requiredInProduction: readonly string[] = [],
) {
  const schema = z.object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort),
    METRICS_PORT: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(defaultPort + 5400),
    HOST: z.string().min(1).default('127.0.0.1'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DATA_DIR: z.string().min(1).default('.data'),
    CONTEXT_KEY: base64urlSecret.optional(),
    SEED_DEMO_DATA: booleanString.optional(),
    STEP_UP_MAX_AGE_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
    IDEMPOTENCY_KEY_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(86_400),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
    ...extra,
  });
  const parsed = schema.safeParse(env);
  const problems = parsed.success ? [] : formatIssues(parsed.error);
  // Checked apart from the schema so that they are reported even when other variables fail to parse.
  if (env.NODE_ENV === 'production') {
    if (!env.CONTEXT_KEY) problems.push(`  - CONTEXT_KEY: is required in production (npm run keys:context)`);
    // The embedded database is for development: in production it would silently keep data in a container's disk.
    if (!env.DATABASE_URL) problems.push(`  - DATABASE_URL: is required in production (the service's own login; see deploy/postgres)`);
    for (const variable of requiredInProduction) if (!env[variable]) problems.push(`  - ${variable}: is required in production`);
    if (env.SEED_DEMO_DATA === 'true' || env.SEED_DEMO_DATA === '1') {
      problems.push('  - SEED_DEMO_DATA: demo data (with its public demo password) is refused in production');
    }
  }
  if (problems.length || !parsed.success) throw new ConfigError(`Invalid configuration for the ${name} subgraph:\n${problems.join('\n')}`);
  const value = parsed.data as unknown as BaseSubgraphEnv & Extra;
  return Object.freeze({
    ...value,
    name,
    isProduction: value.NODE_ENV === 'production',
    seedDemoData: value.SEED_DEMO_DATA ?? value.NODE_ENV !== 'production',
  });
}
export type SubgraphConfig<Extra extends object = {}> = ReturnType<typeof loadSubgraphConfig<Extra>>;

/** What a failed start names (describeStartupFailure): the subgraph, and the variables that set its ports and database. */
export function startupContextOf(config: SubgraphConfig): StartupContext {
  return {
    service: config.name,
    ports: { [config.METRICS_PORT]: ['METRICS_PORT'], [config.PORT]: ['PORT'] },
    database: { variable: 'DATABASE_URL', url: config.DATABASE_URL },
  };
}
