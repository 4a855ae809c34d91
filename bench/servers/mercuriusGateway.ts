/**
 * Benchmark: @mercuriusjs/gateway (mercurius's Federation 1 gateway) on Fastify, a peer of Gatehouse, with no token
 * checks. argv[2] is the mode (`mercurius`), argv[3] the file to write the URL to. Each subgraph is reached through an
 * undici Pool of our own (the gateway's `agent` option), whose `request` sees the exact body the gateway sends and
 * signs the context every subgraph call needs (the fixed identity of bench/servers/fixedIdentity.ts; the service's
 * rewriteHeaders, which sees the client's headers but not the body, passes the bench role on to it).
 *
 * It cannot compose our Federation 2 subgraphs as they serve themselves (`_service { sdl }`): it keeps the first
 * definition of Query, Mutation and User and drops the others' fields (records, complaints, createRecord…). So it is
 * handed each subgraph's SDL rewritten to Federation 1 (toFederation1.ts) through its `schema` option; the subgraphs
 * answer its calls (`_entities` included) unchanged. And its entity queries fail on the graphql version installed here
 * unless graphql's printer is shimmed (printTypeNamesAsStrings.ts).
 */
import './printTypeNamesAsStrings';
import { writeFile } from 'node:fs/promises';
import Fastify from 'fastify';
import mercuriusGateway from '@mercuriusjs/gateway';
import { Pool, type Dispatcher } from 'undici';
import { loadConfig } from '../../gateway/config';
import { toFederation1 } from './toFederation1';
import { BENCH_ROLE_HEADER, createBenchSigner, roleOf } from './fixedIdentity';
import { profileOnSignal } from './profileOnSignal';

type Signer = ReturnType<typeof createBenchSigner>;

/** A keep-alive pool to one subgraph that signs each call's context for its body. */
class SigningPool extends Pool {
  constructor(
    url: string,
    private readonly subgraph: string,
    private readonly signer: Signer,
  ) {
    super(new URL(url).origin, { connections: 10 });
  }

  request(options: Dispatcher.RequestOptions) {
    const { [BENCH_ROLE_HEADER]: role, ...headers } = (options.headers ?? {}) as Record<string, string>;
    const [name, value] = this.signer.sign(roleOf(role), this.subgraph, options.body as string);
    return super.request({ ...options, headers: { ...headers, [name]: value } });
  }
}

async function main() {
  const [, outFile] = process.argv.slice(2);
  const config = loadConfig(process.env);
  const signer = createBenchSigner(config.CONTEXT_SIGNING_SECRET!, 'mercurius');
  const pools = Object.fromEntries(Object.entries(config.subgraphUrls).map(([name, url]) => [name, new SigningPool(url, name, signer)]));
  const sdl: Record<string, string> = {};
  for (const [name, url] of Object.entries(config.subgraphUrls)) {
    const response = await pools[name].request({
      method: 'POST',
      path: new URL(url).pathname,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    sdl[name] = ((await response.body.json()) as { data: { _service: { sdl: string } } }).data._service.sdl;
  }
  const schemas = toFederation1(sdl);
  const app = Fastify({ logger: false });
  await app.register(mercuriusGateway, {
    gateway: {
      services: Object.entries(config.subgraphUrls).map(([name, url]) => ({
        name,
        url,
        schema: schemas[name],
        agent: pools[name],
        rewriteHeaders: (headers: Record<string, string | string[] | undefined>) => ({
          [BENCH_ROLE_HEADER]: roleOf(headers[BENCH_ROLE_HEADER]),
        }),
      })),
    },
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  await writeFile(outFile, `${url}/graphql`);
}

profileOnSignal();

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
