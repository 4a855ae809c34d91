import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'graphql';
import { allow } from '../../auth';
import {
  buildPermissionMatrix,
  diffMatrix,
  matrixSection,
  renderPermissionMatrix,
  SUBGRAPHS,
  withMatrix,
  PERMISSION_MATRIX_FILE,
} from '../../scripts/permissionMatrix';

describe('the permission matrix', () => {
  it('has a rule for every field of every subgraph', () => {
    expect(buildPermissionMatrix().missing).toEqual([]);
  });

  it('is current in docs/permissions.md', () => {
    const readme = readFileSync(PERMISSION_MATRIX_FILE, 'utf8');
    expect(withMatrix(readme, renderPermissionMatrix(buildPermissionMatrix().rows))).toBe(readme);
  });

  it('names a field added without a rule', () => {
    const records = SUBGRAPHS.find((subgraph) => subgraph.name === 'records')!;
    const typeDefs = parse(
      readFileSync(resolve(__dirname, '../../subgraphs/records/schema.graphql'), 'utf8').replace(
        'title: String!',
        'title: String!\n  secretScore: Int',
      ),
    );
    const { missing } = buildPermissionMatrix([{ ...records, typeDefs }]);
    expect(missing).toEqual(['records: Record.secretScore']);
  });

  it('shows a change that widens access as a readable diff against the committed matrix', () => {
    const readme = readFileSync(PERMISSION_MATRIX_FILE, 'utf8');
    const complaints = SUBGRAPHS.find((subgraph) => subgraph.name === 'complaints')!;
    const widened = {
      ...complaints,
      permissions: { ...complaints.permissions, Complaint: { ...complaints.permissions.Complaint, internalNotes: allow } },
    };
    const { rows } = buildPermissionMatrix(SUBGRAPHS.map((subgraph) => (subgraph.name === 'complaints' ? widened : subgraph)));
    expect(diffMatrix(matrixSection(readme), renderPermissionMatrix(rows))).toEqual([
      'complaints:',
      '  - | `Complaint.internalNotes` | — | — | ✓ | ✓ | ✓ |',
      '  + | `Complaint.internalNotes` | ✓ | ✓ | ✓ | ✓ | ✓ |',
    ]);
  });

  it('shows what each role gets, e.g. email only for its owner and staff', () => {
    const row = buildPermissionMatrix().rows.find((r) => r.subgraph === 'users' && r.field === 'User.email');
    expect(row?.cells).toEqual(['—', 'own', '✓', '✓', '✓']);
  });
});
