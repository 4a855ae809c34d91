/**
 * Benchmark: one gateway process. argv[2] is the mode — `gatehouse` (full auth), `gatehouse-noauth` (token checks
 * off, a fixed identity signed), `stock` (@apollo/gateway + @apollo/server standalone with the default data source,
 * no token checks; it signs the same fixed identity, which the subgraphs require) — argv[3] the file to write the
 * URL to (a Gatehouse gateway also writes its metrics URL to argv[3].metrics). Configuration comes from the
 * environment like the real gateway's.
 */
import { writeFile } from 'node:fs/promises';
import { loadRoleTable } from '../../auth';
const scopesOf = (roles: string[]) => loadRoleTable('roles.yaml').scopesOf(roles);
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { acknowledgeEnforcedFeatures } from '../../gateway/supergraphSource';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { CONTEXT_HEADER, createContextSigner, type ContextUser } from '../../auth';
import { loadConfig } from '../../gateway/config';
import { createGateway } from '../../gateway/createGateway';
import { DEMO_TENANTS } from '../../subgraphs/kit/demoTenants';
import { profileOnSignal } from './profileOnSignal';

const member = DEMO_TENANTS[0].users.member;
const identity: ContextUser = {
  id: member.id,
  tenantId: DEMO_TENANTS[0].id,
  roles: ['MEMBER'],
  scopes: scopesOf(['MEMBER']),
  sessionId: 'bench',
};

async function main() {
  const [mode, outFile] = process.argv.slice(2);
  const config = loadConfig(process.env);
  let url: string;
  if (mode === 'stock') {
    const signer = createContextSigner({ masterSecret: config.CONTEXT_SIGNING_SECRET! });
    class FixedIdentityDataSource extends RemoteGraphQLDataSource {
      name = '';
      willSendRequest({ request }: Parameters<NonNullable<RemoteGraphQLDataSource['willSendRequest']>>[0]) {
        // The body RemoteGraphQLDataSource is about to send, so that the context's body binding holds.
        const { http, query, ...rest } = request;
        const body = JSON.stringify({ query, ...rest });
        http!.headers.set(CONTEXT_HEADER, signer.sign({ user: identity, requestId: 'stock', clientAddress: '' }, this.name, body));
      }
    }
    const gateway = new ApolloGateway({
      // Stock Apollo Gateway enforces none of the authorization directives (it refuses them): here it routes only.
      supergraphSdl: acknowledgeEnforcedFeatures(readFileSync(config.SUPERGRAPH_PATH, 'utf8')),
      buildService: ({ name, url: routingUrl }) =>
        Object.assign(new FixedIdentityDataSource({ url: config.subgraphUrls[name] ?? routingUrl }), { name }),
    });
    const server = new ApolloServer({ gateway });
    ({ url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } }));
  } else {
    const gateway = await createGateway({ config, logger: false, ...(mode === 'gatehouse-noauth' ? { staticIdentity: identity } : {}) });
    url = await gateway.start();
    await writeFile(`${outFile}.metrics`, gateway.metricsUrl!);
  }
  await writeFile(outFile, url);
}

profileOnSignal();

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
