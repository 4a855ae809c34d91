import { randomUUID } from 'node:crypto';
import { badUserInput, notFound } from '../../auth';
import { DateTime, inKeyOrder, isUuid, parsePage, requestLoader, requireScope, requireViewer, toPage, type SubgraphContext } from '../kit';
import { findProfiles, findTenants, insertProfile, listProfiles, type ProfileRow, type TenantRow } from './data/profiles';

type Ctx = SubgraphContext;

async function profileOf(ctx: Ctx, id: unknown): Promise<ProfileRow | null> {
  // The same check as Query.user, so a reference from another subgraph is no back door.
  const viewer = requireScope(ctx, 'profile:read');
  if (!isUuid(id)) return null;
  // Every profile the request looks up (each reference of an _entities call) in one statement of the caller's tenant.
  const profiles = requestLoader<string, ProfileRow | null>(ctx, 'profiles', (ids) =>
    ctx.db.withTenant(viewer.tenantId, async (tx) => inKeyOrder(await findProfiles(tx, viewer.tenantId, ids), ids, (row) => row.id)),
  );
  return profiles.load(id);
}

export const resolvers = {
  DateTime,
  Query: {
    me: (_: unknown, __: unknown, ctx: Ctx) => profileOf(ctx, requireViewer(ctx).id),
    async user(_: unknown, args: { id: string }, ctx: Ctx) {
      // Another tenant's id answers exactly like an id that does not exist.
      const profile = await profileOf(ctx, args.id);
      if (!profile) throw notFound('User not found');
      return profile;
    },
    async users(_: unknown, args: { first?: number; after?: string }, ctx: Ctx) {
      const viewer = requireViewer(ctx);
      const page = parsePage(args);
      const rows = await ctx.db.withTenant(viewer.tenantId, (tx) => listProfiles(tx, viewer.tenantId, page));
      return toPage(rows, page);
    },
  },
  Mutation: {
    async createUser(_: unknown, args: { input: { email: string; displayName: string } }, ctx: Ctx) {
      const viewer = requireViewer(ctx);
      const email = args.input.email.trim().toLowerCase();
      const displayName = args.input.displayName.trim();
      if (!/^[^@\s]{1,64}@[^@\s]{1,190}$/.test(email)) throw badUserInput('"email" is not an email address', 'invalid_email');
      if (!displayName || displayName.length > 100) throw badUserInput('"displayName" needs 1 to 100 characters');
      const created = await ctx.db.withTenant(viewer.tenantId, (tx) =>
        insertProfile(tx, { id: randomUUID(), tenantId: viewer.tenantId, email, displayName }),
      );
      if (!created) throw badUserInput('That email is already taken in this tenant', 'already_exists');
      return created;
    },
  },
  User: {
    // Entity references from other subgraphs: the same tenant check as Query.user, null for anything else.
    __resolveReference: (reference: { id: string }, ctx: Ctx) => profileOf(ctx, reference.id),
    displayName: (profile: ProfileRow) => profile.display_name,
    createdAt: (profile: ProfileRow) => profile.created_at,
    tenant(profile: ProfileRow, _: unknown, ctx: Ctx) {
      // Profiles are only ever read within the caller's tenant: one lookup serves every profile of the page.
      const tenants = requestLoader<string, TenantRow | null>(ctx, 'tenants', (ids) =>
        ctx.db.withTenant(profile.tenant_id, async (tx) => inKeyOrder(await findTenants(tx, ids), ids, (row) => row.id)),
      );
      return tenants.load(profile.tenant_id);
    },
  },
};
