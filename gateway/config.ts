import proxyAddr from '@fastify/proxy-addr';
import { isIP } from 'node:net';
import { z } from 'zod';

const booleanString = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const base64urlSecret = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url text')
  .refine((value) => Buffer.from(value, 'base64url').length >= 32, 'must hold at least 32 bytes');

/** One external OpenID Connect provider whose access tokens the gateway accepts (TRUSTED_ISSUERS, a JSON array). */
const externalIssuerSchema = z
  .object({
    issuer: z.url(),
    /** Where its keys are; without it, read from the issuer's discovery document. */
    jwksUri: z.url().optional(),
    audience: z.string().min(1),
    typ: z.string().min(1).default('at+jwt'),
    tenantId: z.uuid().optional(),
    tenantClaim: z.string().min(1).optional(),
    rolesClaim: z.string().min(1).default('roles'),
    /** Provider role → Gatehouse role (a role of the roles file; others grant nothing and are logged). */
    roleMap: z.record(z.string(), z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must name a role (UPPER_SNAKE)')).optional(),
    /** The claim holding scopes the provider grants directly (`scope`, space-separated, or an array such as `scp`). */
    scopeClaim: z.string().min(1).optional(),
    userIdClaim: z.string().min(1).default('sub'),
    /** The longest exp − iat accepted from this provider (providers commonly issue 1-hour tokens). */
    maxTokenLifetimeSeconds: z.number().int().min(60).max(86_400).default(3600),
  })
  .strict()
  .refine((value) => Boolean(value.tenantId) !== Boolean(value.tenantClaim), 'needs exactly one of tenantId and tenantClaim');
export type ExternalIssuer = z.infer<typeof externalIssuerSchema>;

const trustedIssuersSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array' });
      return z.NEVER;
    }
  })
  .pipe(z.array(externalIssuerSchema));

/**
 * TRUST_PROXY: which proxies in front of the gateway may name the client in `X-Forwarded-For`. `false` (none), a
 * number of hops (`1`: the one proxy that connects to the gateway, whose own entry is the last), or a list of proxy
 * addresses and CIDRs. Never `true`: trusting every hop takes the leftmost entry, which the client writes itself.
 */
const trustProxySchema = z
  .string()
  .trim()
  .transform((value, ctx): false | number | string[] => {
    if (value === '' || value === 'false' || value === '0') return false;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops <= 10) return hops;
    } else if (value !== 'true') {
      const entries = value.split(',').map((entry) => entry.trim());
      const invalid = entries.filter((entry) => {
        const [address, bits, extra] = entry.split('/');
        const version = isIP(address);
        return (
          !version || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128)))
        );
      });
      if (!invalid.length) return entries;
    }
    ctx.addIssue({
      code: 'custom',
      message:
        'must be false, a number of proxy hops (1–10), or a comma-separated list of proxy addresses or CIDRs (never true: that trusts what the client writes)',
    });
    return z.NEVER;
  });

const SUBGRAPH_URL_VARIABLE = /^SUBGRAPH_([A-Z0-9_]+)_URL$/;
const SUBGRAPH_TIMEOUT_VARIABLE = /^SUBGRAPH_([A-Z0-9_]+)_TIMEOUT_MS$/;

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9400),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),
  SUPERGRAPH_PATH: z.string().min(1).default('supergraph.graphql'),
  SUPERGRAPH_POLL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  ROLES_PATH: z.string().min(1).default('roles.yaml'),
  STEP_UP_MAX_AGE_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  TOKEN_ISSUER: z.url().default('http://localhost:4001'),
  TOKEN_AUDIENCE: z.string().min(1).default('gatehouse'),
  AUTH_JWKS_URL: z.url().default('http://localhost:4001/.well-known/jwks.json'),
  JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
  JWKS_REFRESH_MS: z.coerce.number().int().min(0).default(60_000),
  JWKS_MAX_STALE_MS: z.coerce.number().int().min(0).default(3_600_000),
  CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  MAX_TOKEN_AGE_SECONDS: z.coerce.number().int().min(60).default(3600),
  // The auth service's own tokens live 15 minutes (ACCESS_TOKEN_TTL_SECONDS 900): a little more, never a day.
  MAX_TOKEN_LIFETIME_SECONDS: z.coerce.number().int().min(60).max(86_400).default(1200),
  TOKEN_CACHE_SIZE: z.coerce.number().int().min(1).default(10_000),
  CONTEXT_SIGNING_SECRET: base64urlSecret.optional(),
  CONTEXT_TTL_SECONDS: z.coerce.number().int().min(1).max(60).default(30),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(262_144),
  TRUST_PROXY: trustProxySchema.default(false),
  INTROSPECTION: booleanString.optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('gatehouse:'),
  REDIS_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  REVOCATION_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .min(600)
    .max(7 * 86_400)
    .default(3600),
  REVOCATION_WHEN_BUS_DOWN: z.enum(['accept', 'refuse']).default('accept'),
  REVOCATION_BUS_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
  AUTH_SUBGRAPH_NAME: z.string().min(1).default('auth'),
  TRUSTED_ISSUERS: trustedIssuersSchema.optional(),
  RATE_LIMIT_PER_USER: z.coerce.number().int().min(0).default(600),
  RATE_LIMIT_PER_TENANT: z.coerce.number().int().min(0).default(6000),
  RATE_LIMIT_PER_ADDRESS: z.coerce.number().int().min(0).default(1200),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  MAX_DEPTH: z.coerce.number().int().min(1).default(12),
  MAX_ALIASES: z.coerce.number().int().min(0).default(15),
  MAX_TOKENS: z.coerce.number().int().min(10).default(2000),
  MAX_DIRECTIVES: z.coerce.number().int().min(0).default(30),
  MAX_COST: z.coerce.number().int().min(1).default(10_000),
  // lean: POSTed JSON operations skip Apollo Server's request pipeline (gateway/leanPipeline.ts); apollo: none do.
  GRAPHQL_PIPELINE: z.enum(['lean', 'apollo']).default('lean'),
  CORS_ORIGINS: z.string().optional(),
  // Subscriptions (WebSocket at /graphql, SSE at /graphql/stream): limits per instance.
  SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(100),
  SUBSCRIPTIONS_PER_USER: z.coerce.number().int().min(1).default(100),
  SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(50),
  SUBSCRIPTION_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).default(65_536),
  SUBSCRIPTION_PING_INTERVAL_MS: z.coerce.number().int().min(1000).default(12_000),
  SUBSCRIPTION_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).default(3000),
  SUBSCRIPTION_QUEUE_LIMIT: z.coerce.number().int().min(1).default(100),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('gatehouse-gateway'),
});

function trustsProxyOf(trusted: false | number | string[]): (address: string, hop: number) => boolean {
  if (trusted === false) return () => false;
  // A hop count trusts that many proxies nearest the gateway (hop 0 is the one that connects to it).
  if (typeof trusted === 'number') return (_address, hop) => hop < trusted;
  return proxyAddr.compile(trusted);
}

export class ConfigError extends Error {
  name = 'ConfigError';
}

/**
 * The gateway's configuration from environment variables, validated in one pass: start-up fails with one
 * message naming every bad variable. SUBGRAPH_<NAME>_URL overrides the routing URL of one subgraph.
 */
export function loadConfig(env: Record<string, string | undefined>) {
  const parsed = schema.safeParse(env);
  const subgraphUrls: Record<string, string> = {};
  const problems: string[] = parsed.success ? [] : parsed.error.issues.map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`);
  // Checked apart from the schema so that they are reported even when other variables fail to parse.
  if (env.NODE_ENV === 'production' && !env.CONTEXT_SIGNING_SECRET) {
    problems.push('  - CONTEXT_SIGNING_SECRET: is required in production (npm run keys:context)');
  }
  const subgraphTimeouts: Record<string, number> = {};
  for (const [key, value] of Object.entries(env)) {
    const timeout = SUBGRAPH_TIMEOUT_VARIABLE.exec(key);
    if (timeout && value !== undefined) {
      if (!/^\d+$/.test(value) || Number(value) < 100) problems.push(`  - ${key}: must be a whole number of milliseconds, at least 100`);
      else subgraphTimeouts[timeout[1].toLowerCase()] = Number(value);
      continue;
    }
    const match = SUBGRAPH_URL_VARIABLE.exec(key);
    if (!match || value === undefined) continue;
    if (!z.url({ protocol: /^https?$/ }).safeParse(value).success) problems.push(`  - ${key}: must be an http(s) URL`);
    else subgraphUrls[match[1].toLowerCase()] = value;
  }
  if (parsed.success && parsed.data.TRUSTED_ISSUERS?.some((external) => external.issuer === parsed.data.TOKEN_ISSUER)) {
    problems.push('  - TRUSTED_ISSUERS: must not repeat TOKEN_ISSUER');
  }
  if (problems.length || !parsed.success) throw new ConfigError(`Invalid configuration for the gateway:\n${problems.join('\n')}`);
  const value = parsed.data;
  const isProduction = value.NODE_ENV === 'production';
  return Object.freeze({
    ...value,
    isProduction,
    introspection: value.INTROSPECTION ?? !isProduction,
    /**
     * Whether a proxy may name the client (TRUST_PROXY), for `@fastify/proxy-addr`: Fastify's requests and the
     * WebSocket upgrades it never sees read the client's address the same way.
     */
    trustsProxy: trustsProxyOf(value.TRUST_PROXY),
    subgraphUrls: Object.freeze(subgraphUrls),
    subgraphTimeouts: Object.freeze(subgraphTimeouts),
    trustedIssuers: Object.freeze(value.TRUSTED_ISSUERS ?? []),
    // Development allows Apollo's hosted Sandbox; production allows no other origin unless configured.
    corsOrigins: Object.freeze(
      value.CORS_ORIGINS !== undefined
        ? value.CORS_ORIGINS.split(',')
            .map((origin) => origin.trim())
            .filter(Boolean)
        : isProduction
          ? []
          : ['https://studio.apollographql.com', 'https://sandbox.embed.apollographql.com'],
    ),
  });
}
export type GatewayConfig = ReturnType<typeof loadConfig>;
