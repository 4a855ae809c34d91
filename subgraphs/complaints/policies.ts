import type { ObjectPolicy } from '../../auth';

/** The object policies this subgraph's SDL names (`@policy`); who needs which scope is in schema.graphql. */
export const policies: Record<string, ObjectPolicy> = {
  /**
   * On a user: the user is the caller. On a mutation there is no object yet: the resolver finds the complaint among
   * those the caller may see, in the transaction that changes it.
   */
  owner: (parent: { id?: string }, _args, ctx, info) => info.parentType.name === 'Mutation' || parent.id === ctx.viewer?.id,
};
