import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { postGraphQL, startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/eventually';

/** roles.yaml is data: the gateway reloads it like the supergraph, and the subgraphs follow the scopes it signs. */
let stack: Stack;
let dir: string;
let rolesPath: string;
let url: string;
let member: string;
const NOTES = '{ complaints(first: 5) { nodes { internalNotes } } }';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-roles-'));
  rolesPath = join(dir, 'roles.yaml');
  await copyFile(resolve(__dirname, '../../roles.yaml'), rolesPath);
  stack = await startStack();
  ({ url } = await stack.addGateway({ ROLES_PATH: rolesPath, SUPERGRAPH_POLL_MS: '50' }));
  member = await stack.login('member@acme.example', 'acme');
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the roles file', () => {
  it('reloads without a restart: a scope granted to a role reaches the gateway check, the context and the subgraph', async () => {
    const before = await postGraphQL(url, NOTES, { token: member });
    expect(before.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const original = await readFile(rolesPath, 'utf8');
    await writeFile(
      rolesPath,
      original.replace(
        'scopes: [profile:read, record:read, record:create, complaint:file]',
        'scopes: [profile:read, record:read, record:create, complaint:file, complaint:read:internal]',
      ),
    );
    await eventually(async () => {
      const after = await postGraphQL(url, NOTES, { token: member });
      return (
        !after.body.errors && after.body.data.complaints.nodes.some((node: { internalNotes: string | null }) => node.internalNotes !== null)
      );
    });
    const viewer = await postGraphQL(url, '{ viewer { permissions } }', { token: member });
    expect(viewer.body.data.viewer.permissions).toContain('complaint:read:internal');
  });

  it('keeps the current table when a new version is unusable', async () => {
    await writeFile(rolesPath, 'roles:\n  MEMBER:\n    scopes: [not:declared]\n');
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    const still = await postGraphQL(url, NOTES, { token: member });
    expect(still.body.errors).toBeUndefined();
    expect((await postGraphQL(url, '{ viewer { permissions } }', { token: member })).body.data.viewer.permissions).toContain('record:read');
  });
});
