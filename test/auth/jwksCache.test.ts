import { JwksUnavailableError, createJwksCache, generateSigningKey, type PublishedSigningKey } from '../../auth';
import { startJwksServer } from '../helpers/jwksServer';

let first: PublishedSigningKey;
let second: PublishedSigningKey;
let server: Awaited<ReturnType<typeof startJwksServer>>;

beforeAll(async () => {
  [first, second] = await Promise.all([generateSigningKey(), generateSigningKey()]);
  server = await startJwksServer([first.publicJwk]);
});
afterAll(() => server.close());
beforeEach(() => {
  server.setKeys([first.publicJwk]);
  server.setUp(true);
});

describe('the JWKS cache', () => {
  it('answers known keys from memory, with the algorithm chosen by the key', async () => {
    const cache = createJwksCache({ url: server.url, refreshIntervalMs: 0 });
    await cache.load();
    const before = server.fetches;
    const resolved = await cache.getKey(first.kid);
    expect(resolved).toMatchObject({ kid: first.kid, alg: first.alg });
    expect(server.fetches).toBe(before);
  });

  it('fetches at most once per cooldown for a flood of unknown kids, concurrent misses sharing one fetch', async () => {
    let now = 1_000_000;
    const reasons: string[] = [];
    const cache = createJwksCache({
      url: server.url,
      refreshIntervalMs: 0,
      cooldownMs: 30_000,
      now: () => now,
      onFetch: (outcome, reason) => reasons.push(`${outcome} ${reason}`),
    });
    await cache.load();
    const before = server.fetches;
    now += 30_000;
    const flood = await Promise.all(Array.from({ length: 200 }, (_, i) => cache.getKey(`random-${i}`)));
    expect(flood.every((key) => key === undefined)).toBe(true);
    expect(server.fetches - before).toBe(1);
    await Promise.all(Array.from({ length: 200 }, (_, i) => cache.getKey(`again-${i}`)));
    expect(server.fetches - before).toBe(1);
    expect(reasons).toEqual(['ok load', 'ok unknown_kid']); // what the metric reports: the flood's one fetch, by cause
  });

  it('accepts a newly published key without a restart', async () => {
    let now = 1_000_000;
    const cache = createJwksCache({ url: server.url, refreshIntervalMs: 0, cooldownMs: 10_000, now: () => now });
    await cache.load();
    server.setKeys([first.publicJwk, second.publicJwk]);
    now += 10_000;
    expect(await cache.getKey(second.kid)).toMatchObject({ kid: second.kid });
  });

  it.each([
    ['no keys', () => []],
    [
      'no usable key',
      () => [
        { ...first.publicJwk, use: 'enc' },
        { kty: 'oct', kid: 'shared', k: 'c2VjcmV0' },
      ],
    ],
  ])('treats a set with %s as a failed fetch: the last good set stays in use, within its staleness bound', async (_name, keys) => {
    let now = 1_000_000;
    const outcomes: string[] = [];
    const cache = createJwksCache({
      url: server.url,
      refreshIntervalMs: 0,
      cooldownMs: 1000,
      maxStaleMs: 60_000,
      now: () => now,
      onFetch: (outcome, reason, error) => outcomes.push(`${outcome} ${reason}${error ? `: ${error.message}` : ''}`),
    });
    await cache.load();
    server.setKeys(keys() as never);
    now += 1000;
    expect(await cache.getKey('unknown-kid')).toBeUndefined(); // a refetch, which finds nothing usable
    expect(outcomes[1]).toMatch(/^error unknown_kid: JWKS holds no (usable )?keys?$/);
    expect(await cache.getKey(first.kid)).toMatchObject({ kid: first.kid });
    expect(cache.isReady).toBe(true);
    now += 60_000;
    await expect(cache.getKey(first.kid)).rejects.toBeInstanceOf(JwksUnavailableError);
  });

  it('keeps the last good key set while the publisher is down, up to the maximum staleness', async () => {
    let now = 1_000_000;
    const cache = createJwksCache({ url: server.url, refreshIntervalMs: 0, cooldownMs: 1000, maxStaleMs: 60_000, now: () => now });
    await cache.load();
    server.setUp(false);
    now += 59_000;
    expect(await cache.getKey('unknown')).toBeUndefined(); // refetch fails; old set still held
    expect(await cache.getKey(first.kid)).toMatchObject({ kid: first.kid });
    now += 2_000;
    await expect(cache.getKey(first.kid)).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(cache.isReady).toBe(false);
  });

  it('never uses symmetric or private keys from the set', async () => {
    server.setKeys([
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
      { ...first.publicJwk, kid: 'private', d: 'x' },
      first.publicJwk,
    ]);
    const cache = createJwksCache({ url: server.url, refreshIntervalMs: 0, cooldownMs: 1_000_000 });
    await cache.load();
    expect(await cache.getKey('hmac')).toBeUndefined();
    expect(await cache.getKey('private')).toBeUndefined();
  });

  it('keeps its generation and key objects across a fetch that changes nothing, and moves on when a key changes', async () => {
    let now = 1_000_000;
    const cache = createJwksCache({ url: server.url, refreshIntervalMs: 0, cooldownMs: 0, now: () => now });
    await cache.load();
    const [generation, held] = [cache.generation, cache.heldKey(first.kid)];
    now += 1000;
    await cache.getKey('unknown'); // a refetch of the same set
    expect(server.fetches).toBeGreaterThan(1);
    expect(cache.generation).toBe(generation);
    expect(cache.heldKey(first.kid)).toBe(held);
    expect(cache.usableUntil).toBe(now + 3_600_000);

    server.setKeys([{ ...second.publicJwk, kid: first.kid }]); // another key under the same kid
    await cache.getKey('unknown');
    expect(cache.generation).not.toBe(generation);
    expect(cache.heldKey(first.kid)).not.toBe(held);
  });

  it('refuses a response announced as larger than maxBytes, and a set of more than maxKeys', async () => {
    const errors: string[] = [];
    const options = {
      url: server.url,
      refreshIntervalMs: 0,
      onFetch: (_: string, __: string, error?: Error) => error && errors.push(error.message),
    };
    server.setKeys([first.publicJwk, second.publicJwk]);
    await expect(createJwksCache({ ...options, maxBytes: 100 }).load()).rejects.toThrow('larger than 100 bytes');
    await expect(createJwksCache({ ...options, maxKeys: 1 }).load()).rejects.toThrow('more than 1');
    expect(errors).toHaveLength(2);
    await expect(createJwksCache(options).load()).resolves.toBeUndefined();
  });

  it('fails to load, and is not ready, when the publisher is unreachable', async () => {
    server.setUp(false);
    const cache = createJwksCache({ url: server.url, refreshIntervalMs: 0 });
    await expect(cache.load()).rejects.toThrow();
    expect(cache.isReady).toBe(false);
  });
});
