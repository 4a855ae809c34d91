import {
  allow,
  can,
  documentRule,
  forbidden,
  isAuthenticated,
  ownsTargetOr,
  rule,
  withStepUp,
  unauthenticated,
  type RuleContext,
} from '../../auth';
import type { RecordRow } from './data/records';
import { readableClassifications } from './resolvers';

// Object-dependent: decided per record, never cached across records.
const canReadBody = documentRule(
  rule('record.body', { cache: 'no_cache' })((record: RecordRow, _args: unknown, ctx: RuleContext) => {
    if (!ctx.viewer) return unauthenticated('login_required');
    if (record.owner_id === ctx.viewer.id || readableClassifications(ctx.viewer).includes(record.classification)) return true;
    return forbidden('classification');
  }),
  (role) => {
    if (!role) return 'no';
    const readable = readableClassifications({ id: '', tenantId: '', sessionId: '', roles: [role] });
    return readable.length === 3 ? 'yes' : `own + ${readable.join(', ')}`;
  },
);

export const permissions = {
  Query: { record: can('record:read'), records: can('record:read') },
  Mutation: {
    createRecord: can('record:create'),
    // Ownership is checked in the resolver, against the row locked for the change.
    updateRecord: ownsTargetOr('record:update:any'),
    archiveRecord: withStepUp(ownsTargetOr('record:archive:any')),
  },
  Record: {
    id: allow, // entity key
    title: can('record:read'),
    body: canReadBody,
    classification: can('record:read'),
    owner: can('record:read'),
    createdAt: can('record:read'),
    updatedAt: can('record:read'),
    archivedAt: can('record:read'),
  },
  User: { id: allow, records: can('record:read') },
  RecordConnection: { nodes: isAuthenticated, pageInfo: isAuthenticated },
  PageInfo: { hasNextPage: allow, endCursor: allow },
};
