import type { ObjectPolicy } from '../../auth';
import type { ProfileRow } from './data/profiles';

/** The object policies this subgraph's SDL names (`@policy`); who needs which scope is in schema.graphql. */
export const policies: Record<string, ObjectPolicy> = {
  /** The profile is the caller's own. */
  owner: (profile: ProfileRow, _args, ctx) => profile.id === ctx.viewer?.id,
};
