import { decodeProtectedHeader } from 'jose';
import { createSecretBox } from '../../auth';
import { loadConfig as loadAuthConfig } from '../../subgraphs/auth/config';
import { createKeyStore } from '../../subgraphs/auth/keyStore';
import { rotateSigningKey } from '../../subgraphs/auth/rotateSigningKey';
import { postGraphQL, startStack, type Stack } from '../helpers/stack';
import { decodePayload } from '../helpers/tokens';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ authEnv: { KEY_RELOAD_MS: '100' }, gatewayEnv: { JWKS_REFRESH_MS: '200' } });
});
afterAll(async () => {
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kidOf = (token: string) => decodeProtectedHeader(token).kid as string;
const jwksKids = async () => {
  const response = await fetch(stack.subgraphs.auth.url.replace('/graphql', '/.well-known/jwks.json'));
  expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
  return ((await response.json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
};

describe('signing keys', () => {
  it('persist encrypted at rest', async () => {
    const { rows } = await stack.db.pool.query('SELECT kid, private_key_encrypted FROM auth.signing_keys');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.private_key_encrypted).toMatch(/^v1\./);
      expect(row.private_key_encrypted).not.toContain('PRIVATE KEY');
    }
  });

  it('rotate: the new key is published before it signs anything, and no valid token is refused meanwhile', async () => {
    const before = await stack.login('member@acme.example', 'acme');
    const oldKid = kidOf(before);
    expect(decodeProtectedHeader(before).alg).toBe('PS256');
    // ACCESS_TOKEN_ALG changed (here to ES256): it applies to the next key; the old key's tokens keep working.
    const rotation = createKeyStore({
      pool: stack.db.pool,
      secretBox: createSecretBox(stack.encryptionKey),
      activationDelaySeconds: 2,
      accessTokenTtlSeconds: 900,
      algorithm: 'ES256',
    });
    await rotation.init();

    const failures: unknown[] = [];
    const seen: Array<{ kid: string; at: number }> = [];
    let running = true;
    const traffic = (async () => {
      while (running) {
        const token = await stack.login('member@acme.example', 'acme');
        seen.push({ kid: kidOf(token), at: Date.now() });
        for (const candidate of [before, token]) {
          const result = await stack.gql('{ me { id } }', { token: candidate });
          if (result.status !== 200) failures.push(result.body);
        }
        await sleep(50);
      }
    })();

    const newKey = await rotation.rotate();
    let publishedAt = 0;
    while (!publishedAt) {
      if ((await jwksKids()).includes(newKey.kid)) publishedAt = Date.now();
      else await sleep(20);
    }
    while (!seen.some((entry) => entry.kid === newKey.kid)) await sleep(50);
    await sleep(300);
    running = false;
    await traffic;

    expect(failures).toEqual([]);
    const firstSigned = seen.find((entry) => entry.kid === newKey.kid)!.at;
    expect(firstSigned).toBeGreaterThan(publishedAt);
    expect(seen.filter((entry) => entry.at < publishedAt).every((entry) => entry.kid === oldKid)).toBe(true);
    expect(newKey.alg).toBe('ES256');
    expect(decodeProtectedHeader(await stack.login('member@acme.example', 'acme'))).toMatchObject({ alg: 'ES256', kid: newKey.kid });
    // The old key stays published until its last token has expired.
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, newKey.kid]));
    expect((await stack.gql('{ me { id } }', { token: before })).status).toBe(200);
  });

  it('npm run keys:rotate adds a published key and audits KEY_ROTATED', async () => {
    const before = await jwksKids();
    const config = loadAuthConfig({
      AUTH_KEY_ENCRYPTION_KEY: stack.encryptionKey,
      KEY_ACTIVATION_DELAY_SECONDS: '600',
      ACCESS_TOKEN_ALG: 'EdDSA',
    });
    const key = await rotateSigningKey(stack.db.pool, config);
    expect(key.alg).toBe('EdDSA');
    let kids = await jwksKids();
    while (!kids.includes(key.kid)) kids = (await sleep(50), await jwksKids());
    expect(kids).toEqual(expect.arrayContaining(before));
    expect(decodeProtectedHeader(await stack.login('member@acme.example', 'acme')).kid).not.toBe(key.kid); // not signing yet
    const audit = await stack.db.pool.query("SELECT tenant_id, reason FROM auth.audit_events WHERE event = 'KEY_ROTATED'");
    expect(audit.rows).toEqual([{ tenant_id: null, reason: key.kid }]);
  });

  it('serve an OpenID discovery document naming the JWKS', async () => {
    const response = await fetch(stack.subgraphs.auth.url.replace('/graphql', '/.well-known/openid-configuration'));
    const discovery = (await response.json()) as { issuer: string; jwks_uri: string };
    expect(discovery).toEqual({ issuer: stack.issuer, jwks_uri: `${stack.issuer}/.well-known/jwks.json` });
  });
});

describe('revocation reaches every gateway', () => {
  it('a logout through one gateway is refused at another, and at a gateway started afterwards', async () => {
    const other = await stack.addGateway();
    const session = await stack.loginSession('agent@acme.example', 'acme');
    expect((await postGraphQL(other.url, '{ me { id } }', { token: session.accessToken })).status).toBe(200);

    const loggedOutAt = Date.now();
    await stack.gql('mutation { logout }', { token: session.accessToken });
    let refused = await postGraphQL(other.url, '{ me { id } }', { token: session.accessToken });
    while (refused.status === 200 && Date.now() - loggedOutAt < 5000) {
      await sleep(5);
      refused = await postGraphQL(other.url, '{ me { id } }', { token: session.accessToken });
    }
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0].extensions?.reason).toBe('token_revoked');

    const late = await stack.addGateway();
    const atStart = await postGraphQL(late.url, '{ me { id } }', { token: session.accessToken });
    expect(atStart.status).toBe(401);
    expect(atStart.body.errors?.[0].extensions?.reason).toBe('token_revoked');
    // Metrics: the lag of every applied revocation is observed.
    const metrics = await (await fetch(other.gateway.metricsUrl!)).text();
    expect(metrics).toMatch(/gatehouse_revocation_lag_seconds_count [1-9]/);
  });

  it("an admin's tenant-wide revocation ends every token of the tenant issued until then, and no other tenant's", async () => {
    const admin = await stack.login('admin@acme.example', 'acme');
    const member = await stack.login('member@acme.example', 'acme');
    const globex = await stack.login('member@globex.example', 'globex');
    const result = await stack.gql('mutation { revokeTenantSessions }', { token: admin });
    expect(result.body.data.revokeTenantSessions).toBe(true);
    expect((await stack.gql('{ me { id } }', { token: member })).status).toBe(401);
    expect((await stack.gql('{ me { id } }', { token: admin })).status).toBe(401);
    expect((await stack.gql('{ me { id } }', { token: globex })).status).toBe(200);
    // Tokens are revoked by issue time in whole seconds: a login in a later second is unaffected.
    await sleep(1100);
    const fresh = await stack.login('member@acme.example', 'acme');
    expect(decodePayload(fresh).iat).toBeGreaterThan(Math.floor(Date.now() / 1000) - 5);
    expect((await stack.gql('{ me { id } }', { token: fresh })).status).toBe(200);
  });
});
