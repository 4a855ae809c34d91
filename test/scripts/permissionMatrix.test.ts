import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'graphql';
import { parseRoleTable, readRequirements, RoleTableError } from '../../auth';
import {
  buildPermissionMatrix,
  diffMatrix,
  readSubgraphRequirements,
  renderPermissionMatrix,
  renderSubgraphMatrixFile,
  roleEnumOf,
  tableOf,
} from '../../scripts/permissionMatrix';
import { roleTable } from '../helpers/scopes';

const sdlOf = (name: string) => readFileSync(resolve(__dirname, `../../subgraphs/${name}/schema.graphql`), 'utf8');
/** The subgraphs of supergraph.yaml, with one subgraph's SDL replaced. */
const withSdl = (name: string, sdl: string) =>
  readSubgraphRequirements().map((subgraph) =>
    subgraph.name === name ? { name, requirements: readRequirements(parse(sdl)), roleEnum: roleEnumOf(parse(sdl)) } : subgraph,
  );

describe('the permission matrix', () => {
  it('covers every subgraph of supergraph.yaml, and every field has a requirement', () => {
    const { rows, missing, unknownScopes } = buildPermissionMatrix();
    expect(missing).toEqual([]);
    expect(unknownScopes).toEqual([]);
    expect([...new Set(rows.map((row) => row.subgraph))]).toEqual(['auth', 'users', 'records', 'complaints']);
  });

  it("is current in each subgraph's permissions.md", () => {
    const { rows, columns } = buildPermissionMatrix();
    for (const subgraph of readSubgraphRequirements()) {
      expect(readFileSync(subgraph.matrixFile!, 'utf8')).toBe(renderSubgraphMatrixFile(subgraph.name, rows, columns));
    }
  });

  it('names a field added without any requirement', () => {
    const sdl = sdlOf('records').replace('title: String! @requiresScopes(scopes: [["record:read"]])', '$&\n  secretScore: Int');
    const { missing } = buildPermissionMatrix(withSdl('records', sdl), roleTable);
    expect(missing).toEqual(['records: Record.secretScore']);
  });

  it('names a scope that no role grants', () => {
    const sdl = sdlOf('records').replace(
      'title: String! @requiresScopes(scopes: [["record:read"]])',
      '$&\n  score: Int @requiresScopes(scopes: [["record:score"]])',
    );
    const { unknownScopes } = buildPermissionMatrix(withSdl('records', sdl), roleTable);
    expect(unknownScopes).toEqual(['records: Record.score names "record:score", which no role in roles.yaml grants']);
  });

  it('names an enum Role that differs from the roles of roles.yaml', () => {
    expect(buildPermissionMatrix().roleMismatches).toEqual([]);
    const sdl = sdlOf('auth').replace('  MEMBER\n}', '  MEMBER\n  AUDITOR\n}');
    expect(buildPermissionMatrix(withSdl('auth', sdl), roleTable).roleMismatches).toEqual([
      'auth: enum Role has ADMIN, MANAGER, AGENT, MEMBER, AUDITOR; roles.yaml has MEMBER, AGENT, MANAGER, ADMIN',
    ]);
  });

  it('shows a change that widens access as a readable diff against the committed matrix', () => {
    const committed = tableOf(readFileSync(resolve(__dirname, '../../subgraphs/complaints/permissions.md'), 'utf8'));
    const sdl = sdlOf('complaints').replace(
      'internalNotes: String @requiresScopes(scopes: [["complaint:read:internal"]])',
      'internalNotes: String @public',
    );
    const { rows, columns } = buildPermissionMatrix(withSdl('complaints', sdl), roleTable);
    // The type's @authenticated still holds: anonymous callers stay out, every role gains the notes.
    expect(
      diffMatrix(
        committed,
        renderPermissionMatrix(
          rows.filter((row) => row.subgraph === 'complaints'),
          columns,
        ),
      ),
    ).toEqual([
      'complaints:',
      '  - | `Complaint.internalNotes` | — | — | ✓ | ✓ | ✓ |',
      '  + | `Complaint.internalNotes` | — | ✓ | ✓ | ✓ | ✓ |',
    ]);
  });

  it('follows the roles file: a scope granted to another role moves its column', () => {
    const roles = parseRoleTable(
      readFileSync(resolve(__dirname, '../../roles.yaml'), 'utf8').replace(
        'scopes: [profile:read, record:read, record:create, complaint:file]',
        'scopes: [profile:read, record:read, record:create, complaint:file, complaint:read:internal]',
      ),
    );
    const row = buildPermissionMatrix(undefined, roles).rows.find(
      (r) => r.subgraph === 'complaints' && r.field === 'Complaint.internalNotes',
    );
    expect(row?.cells).toEqual(['—', '✓', '✓', '✓', '✓']);
  });

  it('shows what each role gets: own objects, staff, and a recent second factor', () => {
    const cells = (subgraph: string, field: string) =>
      buildPermissionMatrix().rows.find((r) => r.subgraph === subgraph && r.field === field)?.cells;
    expect(cells('users', 'User.email')).toEqual(['—', 'own', '✓', '✓', '✓']);
    expect(cells('records', 'Mutation.archiveRecord')).toEqual(['—', 'own + 2FA', 'own + 2FA', '✓ + 2FA', '✓ + 2FA']);
    expect(cells('auth', 'Query.viewer')).toEqual(['✓', '✓', '✓', '✓', '✓']);
  });
});

describe('the roles file', () => {
  it('refuses a role that grants an undeclared scope, an unknown include and a cycle, naming each', () => {
    const text = `scopes:\n  a:read: A\nroles:\n  ONE:\n    scopes: [a:read, b:read]\n    includes: [TWO]\n  TWO:\n    includes: [ONE, NOPE]\n`;
    expect(() => parseRoleTable(text, 'roles.yaml')).toThrow(RoleTableError);
    try {
      parseRoleTable(text, 'roles.yaml');
    } catch (error) {
      expect((error as Error).message).toContain('role ONE grants "b:read", which "scopes" does not declare');
      expect((error as Error).message).toContain('role TWO includes "NOPE", which is not a role');
      expect((error as Error).message).toContain('cycle');
    }
  });

  it('gives each role its own scopes and those of the roles it includes', () => {
    expect(roleTable.roles).toEqual(['MEMBER', 'AGENT', 'MANAGER', 'ADMIN']);
    expect(roleTable.scopesOfRole('MEMBER')).toEqual(['complaint:file', 'profile:read', 'record:create', 'record:read']);
    expect(roleTable.scopesOfRole('ADMIN')).toContain('record:read:confidential');
    expect(roleTable.scopesOf(['MEMBER'], ['audit:read', 'not:a-scope'])).toContain('audit:read');
    expect(roleTable.scopesOf(['MEMBER'], ['not:a-scope'])).not.toContain('not:a-scope');
  });
});
