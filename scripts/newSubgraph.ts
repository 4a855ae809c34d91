/**
 * npm run subgraph:new -- <name>
 *   Scaffolds subgraphs/<name>/ (a working subgraph: SDL with authorization directives, config, a migration with
 *   row-level security on the tenant id, seed, resolvers, object policies, a test) and registers it: supergraph.yaml
 *   gets its routing URL, roles.yaml its two scopes (<name>:read for MEMBER and up, <name>:write for MANAGER and up).
 *   Then: npm run compose && npm run docs, and npm start serves it. Nothing else outside the folder changes.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { readSupergraphConfig, rolesFileOf, SUPERGRAPH_CONFIG } from './composition';
import { METRICS_PORT_OFFSET } from './stackPorts';
import { subgraphFiles } from './subgraphTemplate';

const NAME = /^[a-z][a-z0-9]{1,30}$/;
/** As the files are written by hand: `[a, b]`, no wrapping. */
const YAML_STYLE = { flowCollectionPadding: false, lineWidth: 0 } as const;

async function main(name: string | undefined): Promise<number> {
  if (!name || !NAME.test(name)) {
    console.error('Usage: npm run subgraph:new -- <name>   (lowercase letters and digits, e.g. invoices)');
    return 1;
  }
  const root = resolve(__dirname, '..');
  const dir = join(root, 'subgraphs', name);
  const entries = readSupergraphConfig(SUPERGRAPH_CONFIG);
  if (existsSync(dir) || entries.some((entry) => entry.name === name)) {
    console.error(`A subgraph called "${name}" exists already.`);
    return 1;
  }
  const ports = entries.map((entry) => Number(new URL(entry.routingUrl).port)).filter(Boolean);
  const port = Math.max(4000, ...ports) + 1;

  for (const [file, text] of Object.entries(subgraphFiles(name, port))) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), text);
  }

  // supergraph.yaml and roles.yaml are edited as documents: their comments and layout stay.
  const supergraph = parseDocument(await readFile(SUPERGRAPH_CONFIG, 'utf8'));
  supergraph.setIn(
    ['subgraphs', name],
    supergraph.createNode({ routing_url: `http://localhost:${port}/graphql`, schema: { file: `./subgraphs/${name}/schema.graphql` } }),
  );
  await writeFile(SUPERGRAPH_CONFIG, supergraph.toString(YAML_STYLE));

  const rolesFile = rolesFileOf(SUPERGRAPH_CONFIG);
  const roles = parseDocument(await readFile(rolesFile, 'utf8'));
  roles.setIn(['scopes', `${name}:read`], `Read the ${name} of the tenant`);
  roles.setIn(['scopes', `${name}:write`], `Create and change the ${name} of the tenant`);
  const grant = (role: string, scope: string) => {
    if (roles.hasIn(['roles', role, 'scopes'])) roles.addIn(['roles', role, 'scopes'], scope);
  };
  grant('MEMBER', `${name}:read`);
  grant('MANAGER', `${name}:write`);
  await writeFile(rolesFile, roles.toString(YAML_STYLE));

  // npm start puts it at its place in supergraph.yaml under PORT_BASE (scripts/stackPorts.ts).
  const position = entries.length + 1;
  const prefix = name.toUpperCase();
  console.log(`Created subgraphs/${name}/ and registered it in supergraph.yaml (port ${port}) and roles.yaml.
Its ports: ${prefix}_PORT (default ${port}) and ${prefix}_METRICS_PORT (default ${port + METRICS_PORT_OFFSET}); under
PORT_BASE, PORT_BASE + ${position} and PORT_BASE + ${position + METRICS_PORT_OFFSET}. Alone, it reads PORT and METRICS_PORT.
Next:
  npm run compose && npm run docs     compose the supergraph and write subgraphs/${name}/permissions.md
  npm run schema:check                what CI runs
  npm start                           serves it behind the gateway; try { ${name}(first: 5) { nodes { id title } } }
  npx tsx subgraphs/${name}/main.ts   runs it alone (production: one process per subgraph)`);
  return 0;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
