import type { ObjectPolicy } from '../../auth';

/** The object policies this subgraph's SDL names (`@policy`); who needs which scope is in schema.graphql. */
export const policies: Record<string, ObjectPolicy> = {
  /** The user is the caller. */
  owner: (user: { id: string }, _args, ctx) => user.id === ctx.viewer?.id,
};
