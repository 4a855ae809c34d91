/**
 * npm run keys:context
 *   Prints a new gateway master secret (CONTEXT_SIGNING_SECRET), the CONTEXT_KEY of every subgraph of
 *   supergraph.yaml derived from it, a new AUTH_KEY_ENCRYPTION_KEY, and new database passwords (POSTGRES_PASSWORD
 *   for the superuser, <SUBGRAPH>_DB_PASSWORD for each subgraph's own login; deploy/postgres/init-gatehouse.sql).
 *   With CONTEXT_SIGNING_SECRET set, only derives the subgraph keys from that one.
 *   Give the master secret to the gateways only, and each subgraph only its own key.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { deriveContextKey } from '../auth';
import { readSupergraphConfig } from './composition';

async function main() {
  const master = process.env.CONTEXT_SIGNING_SECRET ?? randomBytes(32).toString('base64url');
  const subgraphs = readSupergraphConfig();
  console.log('# gateway (all instances)');
  console.log(`CONTEXT_SIGNING_SECRET=${master}`);
  for (const { name } of subgraphs) {
    console.log(`# ${name} subgraph: set as its CONTEXT_KEY`);
    console.log(`${name.toUpperCase()}_CONTEXT_KEY=${deriveContextKey(master, name).toString('base64url')}`);
  }
  if (!process.env.CONTEXT_SIGNING_SECRET) {
    console.log('# auth subgraph: encrypts signing keys and TOTP secrets at rest (keep it; losing it loses them)');
    console.log(`AUTH_KEY_ENCRYPTION_KEY=${randomBytes(32).toString('base64url')}`);
    console.log('# Postgres: the superuser (the init script and operators only), then each subgraph its own login');
    console.log(`POSTGRES_PASSWORD=${randomBytes(18).toString('base64url')}`);
    for (const { name } of subgraphs) console.log(`${name.toUpperCase()}_DB_PASSWORD=${randomBytes(18).toString('base64url')}`);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
