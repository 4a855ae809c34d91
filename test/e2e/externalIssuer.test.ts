import { SignJWT } from 'jose';
import { startIdentityProvider } from '../helpers/identityProvider';
import { startStack, type Stack } from '../helpers/stack';
import { acme } from '../helpers/tokens';

let idp: Awaited<ReturnType<typeof startIdentityProvider>>;
let stack: Stack;
const TENANT_CLAIM = 'https://gatehouse.example/tenant';
const ROLES_CLAIM = 'https://gatehouse.example/roles';

beforeAll(async () => {
  idp = await startIdentityProvider();
  stack = await startStack({
    gatewayEnv: {
      TRUSTED_ISSUERS: JSON.stringify([
        {
          issuer: idp.issuer,
          audience: 'gatehouse-api',
          typ: 'JWT',
          tenantClaim: TENANT_CLAIM,
          rolesClaim: ROLES_CLAIM,
          roleMap: { 'records-manager': 'MANAGER', staff: 'AGENT' },
          scopeClaim: 'scope',
        },
      ]),
    },
  });
  // The provider's keys load in the background (discovery, then its JWKS).
  const probe = await idp.mint({ sub: acme.users.manager.id, aud: 'gatehouse-api', [TENANT_CLAIM]: acme.id, [ROLES_CLAIM]: ['staff'] });
  for (let i = 0; i < 100 && (await stack.gql('{ viewer { userId } }', { token: probe })).status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
afterAll(async () => {
  await stack?.close();
  await idp?.close();
});
beforeEach(() => stack.resetCalls());

const externalToken = (overrides: Record<string, unknown> = {}) =>
  idp.mint({
    sub: acme.users.manager.id,
    aud: 'gatehouse-api',
    [TENANT_CLAIM]: acme.id,
    [ROLES_CLAIM]: ['records-manager', 'idp-superuser'],
    ...overrides,
  });

describe('tokens of an external OpenID Connect provider', () => {
  it('add the scopes the provider grants directly (its scope claim), only those roles.yaml knows', async () => {
    const plain = await externalToken({ [ROLES_CLAIM]: ['staff'] });
    expect((await stack.gql('{ auditEvents(first: 1) { nodes { id } } }', { token: plain })).body.errors?.[0].extensions?.code).toBe(
      'FORBIDDEN',
    );
    const token = await externalToken({ [ROLES_CLAIM]: ['staff'], scope: 'openid audit:read made:up' });
    const viewer = await stack.gql('{ viewer { roles permissions } }', { token });
    expect(viewer.body.data.viewer.roles).toEqual(['AGENT']);
    expect(viewer.body.data.viewer.permissions).toContain('audit:read');
    expect(viewer.body.data.viewer.permissions).not.toContain('openid');
    expect(viewer.body.data.viewer.permissions).not.toContain('made:up');
    const audit = await stack.gql('{ auditEvents(first: 1) { nodes { id } } }', { token });
    expect(audit.body.errors).toBeUndefined();
    expect(audit.body.data.auditEvents.nodes).toBeDefined();
  });

  it('are accepted and mapped: tenant from a claim, roles from a namespaced claim, unknown roles dropped', async () => {
    const token = await externalToken();
    const result = await stack.gql('{ viewer { userId tenantId roles permissions issuer sessionExpiresAt user { displayName } } }', {
      token,
    });
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.viewer).toMatchObject({
      userId: acme.users.manager.id,
      tenantId: acme.id,
      roles: ['MANAGER'],
      issuer: idp.issuer,
      sessionExpiresAt: null,
      user: { displayName: 'Acme Manager' },
    });
    expect(result.body.data.viewer.permissions).toContain('record:read:confidential');
    const records = await stack.gql('{ records(first: 100) { nodes { classification } } }', { token });
    expect(records.body.data.records.nodes.map((n: { classification: string }) => n.classification)).toContain('CONFIDENTIAL');
  });

  it('are checked only against their own issuer: no key confusion either way', async () => {
    const claims = { sub: acme.users.admin.id, aud: 'gatehouse-api', [TENANT_CLAIM]: acme.id, [ROLES_CLAIM]: ['records-manager'] };
    // Names the external issuer, signed with the local auth service's key.
    const now = Math.floor(Date.now() / 1000);
    const localSigned = await new SignJWT({ ...claims, iss: idp.issuer, iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: stack.signingKey.alg, kid: stack.signingKey.kid, typ: 'JWT' })
      .sign(stack.signingKey.privateKey);
    // Names the local issuer, signed with the external provider's key.
    const externalSigned = await idp.mint(
      { iss: stack.issuer, aud: stack.audience, tenant_id: acme.id, roles: ['ADMIN'], sid: 's', sub: acme.users.admin.id },
      { typ: 'at+jwt' },
    );
    for (const token of [localSigned, externalSigned]) {
      const result = await stack.gql('{ viewer { userId } }', { token });
      expect(result.status).toBe(401);
      expect(result.body.errors?.[0].extensions?.reason).toBe('token_unknown_key');
    }
    expect(stack.totalCalls()).toBe(0);
  });

  it.each([
    ['another audience', { aud: 'someone-else' }, 'token_claims_invalid'],
    ['no tenant', { [TENANT_CLAIM]: undefined }, 'token_claims_invalid'],
    ['a tenant that is not an id', { [TENANT_CLAIM]: 'acme' }, 'token_claims_invalid'],
    ['an unknown issuer', { iss: 'https://unknown.example' }, 'token_issuer_unknown'],
  ])('are refused with %s', async (_name, overrides, reason) => {
    const token = await externalToken(overrides);
    const result = await stack.gql('{ viewer { userId } }', { token });
    expect(result.status).toBe(401);
    expect(result.body.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason });
    expect(stack.totalCalls()).toBe(0);
  });

  it('map a provider role named like an Object member (constructor, __proto__, toString) to nothing', async () => {
    const token = await externalToken({ [ROLES_CLAIM]: ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'staff'] });
    const result = await stack.gql('{ viewer { roles permissions } }', { token });
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.viewer.roles).toEqual(['AGENT']);
    expect(stack.subgraphs.auth.calls).toHaveLength(1);
  });

  it("are accepted with a provider's one-hour lifetime and refused beyond the issuer's maxTokenLifetimeSeconds", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await stack.gql('{ viewer { userId } }', { token: await externalToken({ iat: now, exp: now + 3600 }) })).status).toBe(200);
    stack.resetCalls();
    const long = await stack.gql('{ viewer { userId } }', { token: await externalToken({ iat: now, exp: now + 3601 }) });
    expect(long.status).toBe(401);
    expect(long.body.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token_lifetime_too_long' });
    expect(stack.totalCalls()).toBe(0);
  });

  it('without a mapped role get no permissions', async () => {
    const token = await externalToken({ [ROLES_CLAIM]: ['idp-superuser'] });
    const result = await stack.gql('{ viewer { roles permissions } records { nodes { id } } }', { token });
    expect(result.body.data).toEqual({ viewer: { roles: [], permissions: [] }, records: null });
    expect(result.body.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([[['records'], 'FORBIDDEN']]);
  });
});
