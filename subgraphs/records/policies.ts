import type { ObjectPolicy } from '../../auth';
import type { RecordRow } from './data/records';
import { readableClassifications } from './resolvers';

/** The object policies this subgraph's SDL names (`@policy`); who needs which scope is in schema.graphql. */
export const policies: Record<string, ObjectPolicy> = {
  /**
   * On a record: the caller owns it. On a mutation there is no object yet: the resolver checks ownership against the
   * row it locks for the change.
   */
  owner: (record: RecordRow, _args, ctx, info) => info.parentType.name === 'Mutation' || record.owner_id === ctx.viewer?.id,
  /** The caller's scopes may read the record's classification (PUBLIC: everyone with record:read). */
  classification: (record: RecordRow, _args, ctx) =>
    Boolean(ctx.viewer && readableClassifications(ctx.viewer).includes(record.classification)),
};
