/** The files of a new subgraph folder (npm run subgraph:new): a small working service a team then makes its own. */
export function subgraphFiles(name: string, port: number): Record<string, string> {
  const singular = name.endsWith('s') ? name.slice(0, -1) : name;
  const Type = singular[0].toUpperCase() + singular.slice(1);
  const role = `gatehouse_${name}_app`;
  return {
    'schema.graphql': `extend schema
  @link(
    url: "https://specs.apollo.dev/federation/v2.7"
    import: ["@key", "@shareable", "@authenticated", "@requiresScopes", "@policy", "@composeDirective"]
  )
  @link(url: "https://gatehouse.dev/authorization/v0.1", import: ["@public"])
  @composeDirective(name: "@public")

"Anyone may read this field (or every field of this type), anonymous callers included. See README \\"Permissions\\"."
directive @public on FIELD_DEFINITION | OBJECT

# Every field needs a requirement (on it or on its type): @public, @authenticated, @requiresScopes(scopes: [[…]]) with
# scopes of roles.yaml, or @policy(policies: [[…]]) (step_up, scope:<scope>, or an object policy of policies.ts).
# A field without one is refused to everyone, and npm run schema:check names it.

type Query {
  "A ${singular} of the caller's tenant; null when there is none with this id."
  ${singular}(id: ID!): ${Type} @requiresScopes(scopes: [["${name}:read"]])
  "The ${name} of the caller's tenant, oldest first. At most 100 a page."
  ${name}(first: Int = 20, after: String): ${Type}Connection @requiresScopes(scopes: [["${name}:read"]])
}

type Mutation {
  create${Type}(title: String!): ${Type} @requiresScopes(scopes: [["${name}:write"]])
}

type ${Type} @key(fields: "id") {
  id: ID! @requiresScopes(scopes: [["${name}:read"]])
  title: String! @requiresScopes(scopes: [["${name}:read"]])
  "The user who created it (an id the users subgraph resolves)."
  createdBy: ID! @requiresScopes(scopes: [["${name}:read"]])
  createdAt: String! @requiresScopes(scopes: [["${name}:read"]])
}

type ${Type}Connection @authenticated {
  nodes: [${Type}!]!
  pageInfo: PageInfo!
}

type PageInfo @shareable @public {
  hasNextPage: Boolean!
  endCursor: String
}
`,
    'migrations/001_init.sql': `CREATE TABLE ${name}.${name} (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  created_by uuid NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX ${name}_tenant_page ON ${name}.${name} (tenant_id, created_at, id);

-- Tenants are isolated by the database too: a request only ever sees its own tenant's rows.
ALTER TABLE ${name}.${name} ENABLE ROW LEVEL SECURITY;
ALTER TABLE ${name}.${name} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ${name}.${name}
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT ON ${name}.${name} TO ${role};
`,
    'data/rows.ts': `import { keysetCondition, type PageRequest, type Tx } from '../../kit';

export interface ${Type}Row {
  id: string;
  tenant_id: string;
  title: string;
  created_by: string;
  created_at: Date;
}

/** The only place SQL lives. Row-level security limits every statement to the transaction's tenant. */
export async function find${Type}(tx: Tx, id: string): Promise<${Type}Row | null> {
  const { rows } = await tx.query<${Type}Row>('SELECT * FROM ${name}.${name} WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function list${Type}s(tx: Tx, page: PageRequest): Promise<${Type}Row[]> {
  const keyset = keysetCondition(page, 1);
  const { rows } = await tx.query<${Type}Row>(
    \`SELECT * FROM ${name}.${name} WHERE \${keyset.sql} ORDER BY created_at, id LIMIT \${page.limit + 1}\`,
    [...keyset.params],
  );
  return rows;
}

export async function insert${Type}(tx: Tx, row: { tenantId: string; title: string; createdBy: string }): Promise<${Type}Row> {
  const { rows } = await tx.query<${Type}Row>(
    'INSERT INTO ${name}.${name} (tenant_id, title, created_by) VALUES ($1, $2, $3) RETURNING *',
    [row.tenantId, row.title, row.createdBy],
  );
  return rows[0];
}
`,
    'data/seed.ts': `import { DEMO_TENANTS, demoId, type Database } from '../../kit';

/** One demo ${singular} per demo tenant (development only). Idempotent. */
export async function seed(db: Database): Promise<void> {
  for (const [index, tenant] of DEMO_TENANTS.entries()) {
    await db.pool.query(
      'INSERT INTO ${name}.${name} (id, tenant_id, title, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
      [demoId(tenant, 9, index + 1), tenant.id, \`First ${singular} of \${tenant.name}\`, tenant.users.admin.id],
    );
  }
}
`,
    'resolvers.ts': `import { badUserInput } from '../../auth';
import { isUuid, parsePage, requireScope, requireViewer, toPage, type SubgraphContext } from '../kit';
import * as data from './data/rows';

type Ctx = SubgraphContext;

export const resolvers = {
  Query: {
    ${singular}: (_: unknown, args: { id: string }, ctx: Ctx) => {
      const viewer = requireViewer(ctx);
      if (!isUuid(args.id)) return null;
      return ctx.db.withTenant(viewer.tenantId, (tx) => data.find${Type}(tx, args.id));
    },
    ${name}: async (_: unknown, args: { first?: number; after?: string }, ctx: Ctx) => {
      const viewer = requireViewer(ctx);
      const page = parsePage(args);
      return toPage(await ctx.db.withTenant(viewer.tenantId, (tx) => data.list${Type}s(tx, page)), page);
    },
  },
  Mutation: {
    create${Type}: (_: unknown, args: { title: string }, ctx: Ctx) => {
      const viewer = requireViewer(ctx);
      const title = args.title.trim();
      if (!title || title.length > 200) throw badUserInput('"title" must be 1 to 200 characters');
      return ctx.db.withTenant(viewer.tenantId, (tx) => data.insert${Type}(tx, { tenantId: viewer.tenantId, title, createdBy: viewer.id }));
    },
  },
  ${Type}: {
    // Called by the gateway for references from other subgraphs: shield does not cover it, so it checks the scope itself.
    __resolveReference: (reference: { id: string }, ctx: Ctx) => {
      const viewer = requireScope(ctx, '${name}:read');
      return isUuid(reference.id) ? ctx.db.withTenant(viewer.tenantId, (tx) => data.find${Type}(tx, reference.id)) : null;
    },
    createdBy: (row: data.${Type}Row) => row.created_by,
    createdAt: (row: data.${Type}Row) => new Date(row.created_at).toISOString(),
  },
};
`,
    'policies.ts': `import type { ObjectPolicy } from '../../auth';

/**
 * The object policies schema.graphql names with @policy (those that need the object: "only its creator", …), by name.
 * Who needs which scope is declared in schema.graphql, not here.
 */
export const policies: Record<string, ObjectPolicy> = {};
`,
    'subgraph.ts': `import { join } from 'node:path';
import { buildSubgraph, loadTypeDefs, type SubgraphService } from '../kit';
import { policies } from './policies';
import { resolvers } from './resolvers';

export { seed } from './data/seed';
export const name = '${name}';
export const defaultPort = ${port};
export const schemaFile = join(__dirname, 'schema.graphql');
export const migrationsDir = join(__dirname, 'migrations');
export const typeDefs = loadTypeDefs(schemaFile);
export { resolvers, policies };

/** The ${name} subgraph. */
export function createSubgraph(): SubgraphService {
  return { name, schema: buildSubgraph({ typeDefs, resolvers, policies }) };
}
`,
    'config.ts': `import { loadSubgraphConfig } from '../kit';

/** The ${name} subgraph's configuration (the variables every subgraph shares; see README). */
export const loadConfig = (env: Record<string, string | undefined>) => loadSubgraphConfig('${name}', ${port}, env);
`,
    'main.ts': `import { describeStartupFailure, type StartupContext } from '../../service/startupError';
import { closeOnSignals, serveSubgraph, startupContextOf } from '../kit';
import { loadConfig } from './config';
import * as subgraph from './subgraph';

// npx tsx subgraphs/${name}/main.ts: this subgraph alone (PORT, DATABASE_URL, CONTEXT_KEY, …; see README).
let context: StartupContext = { service: subgraph.name };
Promise.resolve()
  .then(() => {
    const config = loadConfig(process.env);
    context = startupContextOf(config);
    return serveSubgraph(subgraph, config);
  })
  .then(
    (running) => {
      running.app.log.info(\`${name} subgraph ready at \${running.url}\`);
      closeOnSignals(() => running.close(), running.app.log);
    },
    (error: unknown) => {
      console.error(describeStartupFailure(error, context));
      process.exit(1);
    },
  );
`,
    [`${name}.test.ts`]: `import { graphql } from 'graphql';
import { readRequirements, type ContextUser } from '../../auth';
import type { Database } from '../kit';
import { createSubgraph, policies, typeDefs } from './subgraph';

/** A database that fails the test if touched: a refused request must not reach it. */
const untouchable = new Proxy({} as Database, {
  get: () => {
    throw new Error('the database was used');
  },
});
const member: ContextUser = { id: '00000001-0000-4000-8000-000000000001', tenantId: '00000001-0000-4000-8000-000000000000', roles: ['MEMBER'], scopes: [], sessionId: 's' };

describe('the ${name} subgraph', () => {
  it('declares a requirement for every field, and implements every object policy it names', () => {
    const unruled = [...readRequirements(typeDefs)].filter(([, requirement]) => !requirement.ruled).map(([field]) => field);
    expect(unruled).toEqual([]);
    expect(() => createSubgraph()).not.toThrow(); // a policy named in the SDL and missing here throws
    expect(policies).toBeDefined();
  });

  it('refuses an anonymous caller and one without the scope before any query runs', async () => {
    const { schema } = createSubgraph();
    const anonymous = await graphql({ schema, source: '{ ${name}(first: 1) { nodes { id } } }', contextValue: { viewer: null, db: untouchable } });
    expect(anonymous.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    const unscoped = await graphql({ schema, source: '{ ${name}(first: 1) { nodes { id } } }', contextValue: { viewer: member, db: untouchable } });
    expect(unscoped.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });
});
`,
  };
}
