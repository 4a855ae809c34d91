/**
 * Benchmark: Hive Gateway (@graphql-hive/gateway's runtime with its defaults, but for the merging of identical
 * subgraph requests in flight, see below) on node:http, a peer of Gatehouse.
 * argv[2] is the mode — `hive` (no token checks) or `hive-jwt` (its JWT plugin verifies the bearer token of every
 * request against the auth service's JWKS, and refuses a request without a valid one) — argv[3] the file to write the
 * URL to. A plugin's onFetch signs the context every subgraph call needs, bound to the body Hive Gateway sends: the
 * fixed identity of bench/servers/fixedIdentity.ts, or under `hive-jwt` the verified token's caller.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createGatewayRuntime,
  createRemoteJwksSigningKeyProvider,
  extractFromHeader,
  useJWT,
  type GatewayPlugin,
} from '@graphql-hive/gateway';
import { parse } from 'graphql';
import { loadRoleTable, type ContextUser } from '../../auth';
import { loadConfig } from '../../gateway/config';
import { BENCH_ROLE_HEADER, createBenchSigner, roleOf } from './fixedIdentity';
import { withSubgraphUrls } from './withSubgraphUrls';
import { profileOnSignal } from './profileOnSignal';

const roleTable = loadRoleTable('roles.yaml');

/** The caller of a verified Gatehouse access token, as the context claims it (scopes from the roles file). */
function callerOf(payload: Record<string, unknown>): ContextUser {
  const roles = payload.roles as string[];
  return {
    id: payload.sub as string,
    tenantId: payload.tenant_id as string,
    roles,
    scopes: roleTable.scopesOf(roles),
    sessionId: payload.sid as string,
  };
}

async function main() {
  const [mode, outFile] = process.argv.slice(2);
  const config = loadConfig(process.env);
  const signer = createBenchSigner(config.CONTEXT_SIGNING_SECRET!, mode);
  const subgraphOf = new Map(Object.entries(config.subgraphUrls).map(([name, url]) => [url, name]));
  const signContext: GatewayPlugin<{ jwt?: { payload: Record<string, unknown> } }> = {
    onFetch({ url, options, setOptions, context }) {
      const subgraph = subgraphOf.get(url);
      if (!subgraph || typeof options.body !== 'string' || !('headers' in context)) return;
      const user = context.jwt ? callerOf(context.jwt.payload) : roleOf(context.headers[BENCH_ROLE_HEADER]);
      const [name, value] = signer.sign(user, subgraph, options.body);
      setOptions({ ...options, headers: { ...(options.headers as Record<string, string>), [name]: value } });
    },
  };
  const jwt =
    mode === 'hive-jwt'
      ? [
          useJWT({
            signingKeyProviders: [createRemoteJwksSigningKeyProvider({ jwksUri: config.AUTH_JWKS_URL })],
            tokenLookupLocations: [extractFromHeader({ name: 'authorization', prefix: 'Bearer' })],
            tokenVerification: { issuer: config.TOKEN_ISSUER, audience: config.TOKEN_AUDIENCE, algorithms: ['RS256', 'PS256'] },
            reject: { missingToken: true, invalidToken: true },
          }),
        ]
      : [];
  const gateway = createGatewayRuntime({
    supergraph: parse(withSubgraphUrls(readFileSync(config.SUPERGRAPH_PATH, 'utf8'), config.subgraphUrls)),
    // Its default merges identical subgraph requests in flight into one call. The bench's 50 connections send one
    // caller's identical query, and the context that tells callers apart is signed after that merge (onFetch): left
    // on, most requests would reach no subgraph, which traffic from many users would not see. Off, as the others do.
    transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } },
    logging: false,
    graphiql: false,
    landingPage: false,
    // The plugin package's types come from its ESM and CJS builds at once, whose Logger classes differ by name only.
    plugins: () => [...jwt, signContext] as never,
  });
  const server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await writeFile(outFile, `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
}

profileOnSignal();

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
