import { z } from 'zod';

/** Turns zod issues into one start-up message that names every bad variable. */
export function formatConfigIssues(service: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => `  - ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  return `Invalid configuration for ${service}:\n${lines.join('\n')}`;
}

export class ConfigError extends Error {
  name = 'ConfigError';
}

const booleanString = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

export const configFields = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  booleanString,
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
};

const base64urlSecret = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url text')
  .refine((value) => Buffer.from(value, 'base64url').length >= 32, 'must hold at least 32 bytes');

interface BaseSubgraphEnv {
  NODE_ENV: 'development' | 'production' | 'test';
  PORT: number;
  HOST: string;
  LOG_LEVEL: string;
  DATABASE_URL?: string;
  DATA_DIR: string;
  CONTEXT_KEY?: string;
  SEED_DEMO_DATA?: boolean;
}

/**
 * Parses the variables every subgraph shares. `extra` adds a subgraph's own fields; the result is frozen.
 * In production CONTEXT_KEY (this subgraph's derived key) is required; in development it may be omitted and is
 * then derived from the development secret kept in DATA_DIR.
 */
export function loadSubgraphConfig<Extra extends object = {}>(
  name: string,
  defaultPort: number,
  env: Record<string, string | undefined>,
  extra: z.ZodRawShape = {},
) {
  const schema = z
    .object({
      NODE_ENV: configFields.NODE_ENV,
      PORT: configFields.port(defaultPort),
      HOST: configFields.HOST,
      LOG_LEVEL: configFields.LOG_LEVEL,
      DATABASE_URL: configFields.DATABASE_URL,
      DATA_DIR: configFields.DATA_DIR,
      CONTEXT_KEY: base64urlSecret.optional(),
      SEED_DEMO_DATA: booleanString.optional(),
      ...extra,
    })
    .superRefine((value: any, ctx) => {
      if (value.NODE_ENV === 'production' && !value.CONTEXT_KEY) {
        ctx.addIssue({
          code: 'custom',
          path: ['CONTEXT_KEY'],
          message: 'is required in production (npm run keys:context -- ' + name + ')',
        });
      }
      if (value.NODE_ENV === 'production' && value.SEED_DEMO_DATA) {
        ctx.addIssue({
          code: 'custom',
          path: ['SEED_DEMO_DATA'],
          message: 'demo data (with its public demo password) is refused in production',
        });
      }
    });
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(formatConfigIssues(`the ${name} subgraph`, parsed.error));
  const value = parsed.data as BaseSubgraphEnv & Extra;
  return Object.freeze({
    ...value,
    name,
    isProduction: value.NODE_ENV === 'production',
    seedDemoData: (value.SEED_DEMO_DATA as boolean | undefined) ?? value.NODE_ENV !== 'production',
  });
}
export type SubgraphConfig<Extra extends object = {}> = ReturnType<typeof loadSubgraphConfig<Extra>>;
