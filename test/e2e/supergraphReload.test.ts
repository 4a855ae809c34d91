import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { composeSupergraph } from '../../scripts/composition';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/eventually';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack();
  token = await stack.login('member@acme.example', 'acme');
});
afterAll(async () => {
  await stack?.close();
});

const complaintsQuery = '{ complaints(first: 1) { nodes { id } } }';
const complaintsAvailable = async () => (await stack.gql(complaintsQuery, { token })).body.data?.complaints !== undefined;

it('switches to a changed supergraph without a restart and without failing requests in flight', async () => {
  const root = resolve(__dirname, '../..');
  const withoutComplaints = join(stack.workDir, 'supergraph.yaml');
  const yaml = (await readFile(join(root, 'supergraph.yaml'), 'utf8')).replace(/\.\/subgraphs\//g, `${root}/subgraphs/`);
  await writeFile(withoutComplaints, yaml.replace(/  complaints:\n(    .*\n)+/, ''));
  const reduced = await composeSupergraph(withoutComplaints);
  if (!reduced.ok) throw new Error(reduced.errors.join('\n'));
  const full = await readFile(stack.supergraphPath, 'utf8');

  // Traffic that keeps running through every switch: none of it may fail.
  let running = true;
  const failures: unknown[] = [];
  let served = 0;
  const traffic = (async () => {
    while (running) {
      const result = await stack.gql('{ me { displayName } records(first: 2) { nodes { title } } }', { token });
      if (result.status !== 200 || result.body.errors) failures.push(result.body);
      served += 1;
    }
  })();

  expect(await complaintsAvailable()).toBe(true);
  await writeFile(stack.supergraphPath, reduced.supergraphSdl);
  await eventually(
    async () => {
      const result = await stack.gql(complaintsQuery, { token });
      return result.body.errors?.[0]?.extensions?.code === 'GRAPHQL_VALIDATION_FAILED';
    },
    10_000,
    50,
  );

  // A broken file is refused: the gateway keeps serving the schema it has.
  await writeFile(stack.supergraphPath, 'this is not a supergraph');
  await new Promise((r) => setTimeout(r, 500));
  expect(await complaintsAvailable()).toBe(false);
  expect((await stack.gql('{ me { displayName } }', { token })).body.data.me.displayName).toBe('Acme Member');

  await writeFile(stack.supergraphPath, full);
  await eventually(complaintsAvailable, 10_000, 50);

  running = false;
  await traffic;
  expect(served).toBeGreaterThan(10);
  expect(failures).toEqual([]);
});
