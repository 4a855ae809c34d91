import { loadConfig } from '../../gateway/config';
import { loadConfig as loadAuthConfig } from '../../subgraphs/auth/config';
import { loadConfig as loadUsersConfig } from '../../subgraphs/users/config';

const secret = Buffer.alloc(32, 3).toString('base64url');

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('gateway configuration', () => {
  it('runs on defaults in development, frozen', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 4000, TOKEN_AUDIENCE: 'gatehouse', introspection: true, isProduction: false });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('fails start-up with one message that names every bad variable', () => {
    const message = messageOf(() =>
      loadConfig({
        PORT: 'eighty',
        TOKEN_ISSUER: 'not a url',
        CLOCK_TOLERANCE_SECONDS: '9999',
        SUBGRAPH_USERS_URL: 'ftp://x',
        NODE_ENV: 'production',
      }),
    );
    expect(message).toMatch(/^Invalid configuration for the gateway:/);
    for (const variable of ['PORT', 'TOKEN_ISSUER', 'CLOCK_TOLERANCE_SECONDS', 'SUBGRAPH_USERS_URL', 'CONTEXT_SIGNING_SECRET']) {
      expect(message).toContain(`- ${variable}:`);
    }
  });

  it('requires a configured context secret in production and turns introspection off there', () => {
    expect(messageOf(() => loadConfig({ NODE_ENV: 'production' }))).toContain('CONTEXT_SIGNING_SECRET: is required in production');
    const config = loadConfig({ NODE_ENV: 'production', CONTEXT_SIGNING_SECRET: secret });
    expect(config.introspection).toBe(false);
  });

  it('refuses a context secret shorter than 32 bytes', () => {
    expect(messageOf(() => loadConfig({ CONTEXT_SIGNING_SECRET: 'c2hvcnQ' }))).toContain(
      'CONTEXT_SIGNING_SECRET: must hold at least 32 bytes',
    );
  });

  it("bounds token lifetimes: 20 minutes for the auth service's tokens, an hour per external issuer unless set", () => {
    const issuer = { issuer: 'https://login.example.com/', audience: 'gatehouse-api', tenantClaim: 'tenant' };
    const config = loadConfig({
      TRUSTED_ISSUERS: JSON.stringify([issuer, { ...issuer, issuer: 'https://other.example/', maxTokenLifetimeSeconds: 7200 }]),
    });
    expect(config.MAX_TOKEN_LIFETIME_SECONDS).toBe(1200);
    expect(config.trustedIssuers.map((external) => external.maxTokenLifetimeSeconds)).toEqual([3600, 7200]);
    const message = messageOf(() =>
      loadConfig({ MAX_TOKEN_LIFETIME_SECONDS: '1e308', TRUSTED_ISSUERS: JSON.stringify([{ ...issuer, maxTokenLifetimeSeconds: 10 }]) }),
    );
    expect(message).toContain('- MAX_TOKEN_LIFETIME_SECONDS:');
    expect(message).toContain('- TRUSTED_ISSUERS.0.maxTokenLifetimeSeconds:');
  });

  it('trusts X-Forwarded-For only from a number of hops or listed proxies, never from anyone (true)', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '192.168.1.7']);
    for (const value of ['true', 'yes', '10.0.0.0/33', '11', 'proxy.internal'])
      expect(messageOf(() => loadConfig({ TRUST_PROXY: value }))).toContain('- TRUST_PROXY: must be false, a number of proxy hops');
  });

  it('reads per-subgraph URL overrides', () => {
    expect(loadConfig({ SUBGRAPH_USERS_URL: 'http://users:4002/graphql' }).subgraphUrls).toEqual({ users: 'http://users:4002/graphql' });
  });
});

describe('subgraph configuration', () => {
  it('defaults each subgraph to its own port and seeds demo data in development only', () => {
    expect(loadUsersConfig({})).toMatchObject({ PORT: 4002, seedDemoData: true, name: 'users' });
    const database = 'postgres://gatehouse_users:pw@postgres:5432/gatehouse';
    expect(loadUsersConfig({ NODE_ENV: 'production', CONTEXT_KEY: secret, DATABASE_URL: database })).toMatchObject({ seedDemoData: false });
  });

  it('refuses to start in production without DATABASE_URL (never the embedded database there)', () => {
    expect(messageOf(() => loadUsersConfig({ NODE_ENV: 'production', CONTEXT_KEY: secret }))).toContain(
      '- DATABASE_URL: is required in production',
    );
    expect(loadUsersConfig({}).DATABASE_URL).toBeUndefined(); // development keeps the embedded default
  });

  it('requires the derived context key in production and refuses demo data there', () => {
    const message = messageOf(() => loadUsersConfig({ NODE_ENV: 'production', SEED_DEMO_DATA: 'true', DATABASE_URL: 'mysql://x' }));
    for (const variable of ['CONTEXT_KEY', 'SEED_DEMO_DATA', 'DATABASE_URL']) expect(message).toContain(`- ${variable}:`);
  });

  it('requires the key-encryption key for the auth subgraph in production', () => {
    expect(messageOf(() => loadAuthConfig({ NODE_ENV: 'production', CONTEXT_KEY: secret }))).toContain(
      '- AUTH_KEY_ENCRYPTION_KEY: is required',
    );
    expect(loadAuthConfig({})).toMatchObject({ PORT: 4001, ACCESS_TOKEN_TTL_SECONDS: 900, ACCESS_TOKEN_ALG: 'PS256' });
  });

  it('signs access tokens with an asymmetric algorithm only', () => {
    expect(loadAuthConfig({ ACCESS_TOKEN_ALG: 'ES256' })).toMatchObject({ ACCESS_TOKEN_ALG: 'ES256' });
    for (const refused of ['HS256', 'none', 'RS512'])
      expect(messageOf(() => loadAuthConfig({ ACCESS_TOKEN_ALG: refused }))).toContain('- ACCESS_TOKEN_ALG:');
  });
});
