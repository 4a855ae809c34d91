import { notFound } from '../../auth';
import { DateTime, isUuid, parsePage, requireViewer, toPage, type SubgraphContext } from '../kit';
import { findProfile, findTenant, listProfiles, type ProfileRow } from './data/profiles';

type Ctx = SubgraphContext;

async function profileOf(ctx: Ctx, id: unknown): Promise<ProfileRow | null> {
  const viewer = requireViewer(ctx);
  if (!isUuid(id)) return null;
  return ctx.db.withTenant(viewer.tenantId, (tx) => findProfile(tx, viewer.tenantId, id));
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
  User: {
    // Entity references from other subgraphs: the same tenant check as Query.user, null for anything else.
    __resolveReference: (reference: { id: string }, ctx: Ctx) => profileOf(ctx, reference.id),
    displayName: (profile: ProfileRow) => profile.display_name,
    createdAt: (profile: ProfileRow) => profile.created_at,
    async tenant(profile: ProfileRow, _: unknown, ctx: Ctx) {
      return ctx.db.withTenant(profile.tenant_id, (tx) => findTenant(tx, profile.tenant_id));
    },
  },
};
