import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { composeSupergraph } from '../../scripts/composition';

const root = resolve(__dirname, '../..');
const configPath = join(root, 'supergraph.yaml');

describe('composition', () => {
  it('composes the four subgraphs into exactly the committed supergraph.graphql', async () => {
    const result = await composeSupergraph(configPath);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.supergraphSdl).toBe(await readFile(join(root, 'supergraph.graphql'), 'utf8'));
    for (const name of ['AUTH', 'USERS', 'RECORDS', 'COMPLAINTS']) expect(result.supergraphSdl).toContain(`${name} @join__graph`);
  });

  it('names the file, line and column of each schema that does not parse, on one line each', async () => {
    const result = await composeSupergraph(configPath, { records: 'type Query {\n  record(id: ID!): Record\n', users: 'type {' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      'subgraphs/users/schema.graphql:1:6: Syntax Error: Expected Name, found "{".',
      'subgraphs/records/schema.graphql:3:1: Syntax Error: Expected Name, found <EOF>.',
    ]);
  });

  it('names the subgraphs in conflict when composition fails', async () => {
    const records = (await readFile(join(root, 'subgraphs/records/schema.graphql'), 'utf8')).replace(
      'hasNextPage: Boolean!',
      'hasNextPage: String',
    );
    const result = await composeSupergraph(configPath, { records });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    // At the odd one out: the field in records, which the message names last.
    const line = records.split('\n').findIndex((text) => text.includes('hasNextPage: String')) + 1;
    expect(result.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^subgraphs/records/schema\\.graphql:${line}:3: Type of field "PageInfo\\.hasNextPage" is incompatible across subgraphs: .* in subgraph "records" \\[FIELD_TYPE_MISMATCH\\]$`,
        ),
      ),
    ]);
  });
});
