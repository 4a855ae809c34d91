/**
 * The identity the benchmark's gateways without token checks sign for every subgraph call (the subgraphs accept no
 * call without a signed context): acme's member, or acme's manager when the request carries `x-bench-role: MANAGER`
 * (the list page needs staff to see the tenant's complaints). Gatehouse with token checks off signs one identity per
 * process instead (createGateway's staticIdentity), so it runs a second process for the manager.
 */
import { CONTEXT_HEADER, createContextSigner, loadRoleTable, type ContextUser } from '../../auth';
import { DEMO_TENANTS } from '../../subgraphs/kit/demoTenants';

/** A bench-only request header naming the role of the fixed identity (MEMBER unless it says MANAGER). */
export const BENCH_ROLE_HEADER = 'x-bench-role';
export type BenchRole = 'MEMBER' | 'MANAGER';

const roleTable = loadRoleTable('roles.yaml');
const acme = DEMO_TENANTS[0];

export function benchIdentity(role: BenchRole): ContextUser {
  const user = role === 'MANAGER' ? acme.users.manager : acme.users.member;
  return { id: user.id, tenantId: acme.id, roles: [role], scopes: roleTable.scopesOf([role]), sessionId: 'bench' };
}

const IDENTITIES: Record<BenchRole, ContextUser> = { MEMBER: benchIdentity('MEMBER'), MANAGER: benchIdentity('MANAGER') };

/** The role a request's `x-bench-role` header names (MEMBER for anything else or none). */
export const roleOf = (header: string | string[] | null | undefined): BenchRole => (header === 'MANAGER' ? 'MANAGER' : 'MEMBER');

/**
 * Signs the context header for one subgraph call, bound to its exact body: `sign(user, subgraph, body)` returns
 * `[CONTEXT_HEADER, value]`. `user` is a ContextUser or a BenchRole.
 */
export function createBenchSigner(masterSecret: string, requestId: string) {
  const signer = createContextSigner({ masterSecret });
  return {
    sign(user: ContextUser | BenchRole, subgraph: string, body: string | Buffer): [string, string] {
      const identity = typeof user === 'string' ? IDENTITIES[user] : user;
      return [CONTEXT_HEADER, signer.sign({ user: identity, requestId, clientAddress: '' }, subgraph, body)];
    },
  };
}
