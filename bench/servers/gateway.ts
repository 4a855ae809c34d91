/**
 * Benchmark: one gateway process. argv[2] is the mode — `gatehouse` (full auth), `gatehouse-noauth` (token checks
 * off, acme's member signed), `gatehouse-noauth-manager` (the same with acme's manager, for the list page), `stock`
 * (@apollo/gateway + @apollo/server standalone with the default data source, no token checks; it signs the fixed
 * identity of bench/servers/fixedIdentity.ts, which the subgraphs require) — argv[3] the file to write the URL to (a
 * Gatehouse gateway also writes its metrics URL to argv[3].metrics). Configuration comes from the environment like the
 * real gateway's.
 */
import { writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { acknowledgeEnforcedFeatures } from '../../gateway/supergraphSource';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { loadConfig } from '../../gateway/config';
import { createGateway } from '../../gateway/createGateway';
import { BENCH_ROLE_HEADER, benchIdentity, createBenchSigner, roleOf, type BenchRole } from './fixedIdentity';
import { profileOnSignal } from './profileOnSignal';

async function main() {
  const [mode, outFile] = process.argv.slice(2);
  const config = loadConfig(process.env);
  let url: string;
  if (mode === 'stock') {
    const signer = createBenchSigner(config.CONTEXT_SIGNING_SECRET!, 'stock');
    class FixedIdentityDataSource extends RemoteGraphQLDataSource<{ role: BenchRole }> {
      name = '';
      willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<{ role: BenchRole }>['willSendRequest']>>[0]) {
        // The body RemoteGraphQLDataSource is about to send, so that the context's body binding holds.
        const { http, query, ...rest } = request;
        const body = JSON.stringify({ query, ...rest });
        http!.headers.set(...signer.sign(context.role ?? 'MEMBER', this.name, body));
      }
    }
    const gateway = new ApolloGateway({
      // Stock Apollo Gateway enforces none of the authorization directives (it refuses them): here it routes only.
      supergraphSdl: acknowledgeEnforcedFeatures(readFileSync(config.SUPERGRAPH_PATH, 'utf8')),
      buildService: ({ name, url: routingUrl }) =>
        Object.assign(new FixedIdentityDataSource({ url: config.subgraphUrls[name] ?? routingUrl }), { name }),
    });
    const server = new ApolloServer<{ role: BenchRole }>({ gateway });
    ({ url } = await startStandaloneServer(server, {
      listen: { port: 0, host: '127.0.0.1' },
      context: async ({ req }) => ({ role: roleOf(req.headers[BENCH_ROLE_HEADER]) }),
    }));
  } else {
    const staticIdentity =
      mode === 'gatehouse-noauth' ? benchIdentity('MEMBER') : mode === 'gatehouse-noauth-manager' ? benchIdentity('MANAGER') : undefined;
    const gateway = await createGateway({ config, logger: false, ...(staticIdentity ? { staticIdentity } : {}) });
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
