/**
 * Benchmark: what checking an access token costs the gateway, per signing algorithm, in process (no HTTP). For each
 * algorithm a key may have: CPU per token seen for the first time (jose's jwtVerify with every check the gateway
 * makes, through the request's authentication step) and per token answered from the verified-token cache, with 50
 * checks in flight as under load; medians of three rounds. Then the verifier's own share of a cached token, in a
 * tight loop: the cache lookup and the re-checks a hit makes (ns). Run pinned to one core by bench/run.ts; prints one
 * JSON line.
 */
import {
  ACCESS_TOKEN_ALGORITHMS,
  createAccessTokenIssuer,
  createAccessTokenVerifier,
  createStaticKeyResolver,
  generateSigningKey,
  loadRoleTable,
  type ResolvedKey,
} from '../auth';
import { importJWK } from 'jose';
import { authenticateRequest } from '../gateway/authenticateRequest';

const TOKENS = Number(process.env.BENCH_VERIFY_TOKENS ?? 3000);
const WARMUP = 500;
/** Each figure is the median of this many rounds, each with tokens not seen before. */
const ROUNDS = 3;
const IN_FLIGHT = 50;
/** Passes over the remembered tokens per round of the cache-hit figure. */
const HIT_PASSES = 200;
const issuer = 'https://auth.bench';
const audience = 'gatehouse';

async function cpuMicrosPerCall(tokens: string[], check: (token: string) => Promise<unknown>): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < tokens.length; i += IN_FLIGHT) await Promise.all(tokens.slice(i, i + IN_FLIGHT).map(check));
  const used = process.cpuUsage(started);
  return (used.user + used.system) / tokens.length;
}

async function main() {
  const results: Array<{ alg: string; newTokenMicros: number; cachedTokenMicros: number; cacheHitNanos: number; tokenBytes: number }> = [];
  for (const alg of ACCESS_TOKEN_ALGORITHMS) {
    const key = await generateSigningKey(alg);
    const tokenIssuer = createAccessTokenIssuer({ issuer, audience, signingKey: key });
    const tokens: string[] = [];
    for (let i = 0; i < WARMUP + ROUNDS * TOKENS; i++) {
      const subject = { userId: crypto.randomUUID(), tenantId: crypto.randomUUID(), roles: ['MEMBER'], sessionId: crypto.randomUUID() };
      tokens.push((await tokenIssuer.issue({ ...subject, amr: ['pwd'], authTime: Math.floor(Date.now() / 1000) })).token);
    }
    const resolved: ResolvedKey = { kid: key.kid, alg, key: (await importJWK(key.publicJwk, alg)) as ResolvedKey['key'] };
    const verifier = createAccessTokenVerifier({
      issuer,
      audience,
      keys: createStaticKeyResolver([resolved]),
    });
    const revocations = { check: () => 'ok' as const };
    const roles = { table: loadRoleTable('roles.yaml'), generation: 1 };
    const check = async (token: string) => {
      const result = await authenticateRequest(['authorization', `Bearer ${token}`], verifier, revocations, roles);
      if (!result.ok) throw new Error(`bench: a valid ${alg} token was refused (${result.reason})`);
    };
    await cpuMicrosPerCall(tokens.slice(0, WARMUP), check);
    const newToken: number[] = [];
    const cachedToken: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const fresh = tokens.slice(WARMUP + round * TOKENS, WARMUP + (round + 1) * TOKENS);
      newToken.push(await cpuMicrosPerCall(fresh, check));
      cachedToken.push(await cpuMicrosPerCall(fresh, check));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const newTokenMicros = median(newToken);
    const cachedTokenMicros = median(cachedToken);
    // The verifier's own part of a cached token, alone: the lookup and its re-checks (exp, nbf, age, key, key set).
    const remembered = tokens.slice(WARMUP, WARMUP + TOKENS);
    const hitNanos: number[] = [];
    for (let round = 0; round < 5; round++) {
      const started = process.hrtime.bigint();
      for (let pass = 0; pass < HIT_PASSES; pass++)
        for (const token of remembered) if (!verifier.cached(token)) throw new Error('bench: a miss');
      hitNanos.push(Number(process.hrtime.bigint() - started) / (HIT_PASSES * remembered.length));
    }
    results.push({ alg, newTokenMicros, cachedTokenMicros, cacheHitNanos: median(hitNanos), tokenBytes: tokens[0].length });
  }
  console.log(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
