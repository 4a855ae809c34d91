import { allow, can, isAuthenticated, isOwnerOr, withStepUp } from '../../auth';
import type { ProfileRow } from './data/profiles';

/** Every field has a rule; anything added without one is denied (and schema:check names it). */
export const permissions = {
  Mutation: { createUser: withStepUp(can('user:manage')) },
  Query: {
    me: isAuthenticated,
    user: can('profile:read'),
    users: can('user:list'),
  },
  User: {
    id: allow, // entity key
    email: isOwnerOr('user.email', (profile: ProfileRow) => profile.id, 'user:read:email'),
    displayName: can('profile:read'),
    tenant: can('profile:read'),
    createdAt: can('profile:read'),
  },
  Tenant: { id: isAuthenticated, slug: isAuthenticated, name: isAuthenticated },
  UserConnection: { nodes: isAuthenticated, pageInfo: isAuthenticated },
  PageInfo: { hasNextPage: allow, endCursor: allow },
};
