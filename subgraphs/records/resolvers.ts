import { badUserInput, forbidden, hasScope, notFound, type ContextUser } from '../../auth';
import {
  DateTime,
  groupedInKeyOrder,
  inKeyOrder,
  isUuid,
  parsePage,
  requestLoader,
  requireScope,
  requireViewer,
  toPage,
  type SubgraphContext,
} from '../kit';
import * as data from './data/records';
import type { Classification, RecordRow, Visibility } from './data/records';

type Ctx = SubgraphContext;

/** The classifications of other people's records that `viewer`'s roles may read. */
export function readableClassifications(viewer: ContextUser): Classification[] {
  const readable: Classification[] = ['PUBLIC'];
  if (hasScope(viewer, 'record:read:internal')) readable.push('INTERNAL');
  if (hasScope(viewer, 'record:read:confidential')) readable.push('CONFIDENTIAL');
  return readable;
}

function visibilityOf(viewer: ContextUser): Visibility {
  return { tenantId: viewer.tenantId, viewerId: viewer.id, classifications: readableClassifications(viewer) };
}

async function visibleRecord(ctx: Ctx, id: unknown): Promise<RecordRow | null> {
  // The same checks as Query.record (permission, then visibility), for direct queries and references alike.
  const viewer = requireScope(ctx, 'record:read');
  if (!isUuid(id)) return null;
  // Every record the request looks up (each reference of an _entities call) in one statement of the caller's tenant.
  const records = requestLoader<string, RecordRow | null>(ctx, 'records', (ids) =>
    ctx.db.withTenant(viewer.tenantId, async (tx) =>
      inKeyOrder(await data.findRecords(tx, visibilityOf(viewer), ids), ids, (row) => row.id),
    ),
  );
  return records.load(id);
}

function checkText(value: string | null | undefined, field: string, max: number, required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw badUserInput(`"${field}" is required`);
    return undefined;
  }
  const trimmed = value.trim();
  if ((required || value !== undefined) && trimmed.length === 0) throw badUserInput(`"${field}" must not be empty`);
  if (trimmed.length > max) throw badUserInput(`"${field}" must be at most ${max} characters`);
  return trimmed;
}

/**
 * Loads a record for a change by the caller: NOT_FOUND when the caller cannot see it (so its existence does not
 * leak), FORBIDDEN when they can see it but neither own it nor hold `permission`.
 */
async function changeRecord(
  ctx: Ctx,
  id: string,
  permission: 'record:update:any' | 'record:archive:any',
  apply: (tx: Parameters<Parameters<Ctx['db']['withTenant']>[1]>[0]) => Promise<RecordRow>,
) {
  const viewer = requireViewer(ctx);
  if (!isUuid(id)) throw notFound('Record not found');
  return ctx.db.withTenant(viewer.tenantId, async (tx) => {
    const record = await data.findRecordForUpdate(tx, viewer.tenantId, id);
    const visible = record && (record.owner_id === viewer.id || readableClassifications(viewer).includes(record.classification));
    if (!record || !visible) throw notFound('Record not found');
    if (record.owner_id !== viewer.id && !hasScope(viewer, permission)) throw forbidden('not_owner');
    return apply(tx);
  });
}

export const resolvers = {
  DateTime,
  Query: {
    async record(_: unknown, args: { id: string }, ctx: Ctx) {
      const record = await visibleRecord(ctx, args.id);
      if (!record) throw notFound('Record not found');
      return record;
    },
    async records(_: unknown, args: { first?: number; after?: string }, ctx: Ctx) {
      const viewer = requireViewer(ctx);
      const page = parsePage(args);
      const rows = await ctx.db.withTenant(viewer.tenantId, (tx) => data.listRecords(tx, visibilityOf(viewer), page));
      return toPage(rows, page);
    },
  },
  Mutation: {
    async createRecord(_: unknown, args: { input: { title: string; body: string; classification?: Classification } }, ctx: Ctx) {
      const viewer = requireViewer(ctx);
      const title = checkText(args.input.title, 'title', 200, true)!;
      const body = checkText(args.input.body, 'body', 20_000, true)!;
      const classification = args.input.classification ?? 'INTERNAL';
      return ctx.db.withTenant(viewer.tenantId, (tx) =>
        data.insertRecord(tx, { tenantId: viewer.tenantId, ownerId: viewer.id, title, body, classification }),
      );
    },
    async updateRecord(
      _: unknown,
      args: { id: string; input: { title?: string | null; body?: string | null; classification?: Classification | null } },
      ctx: Ctx,
    ) {
      const title = checkText(args.input.title, 'title', 200, false);
      const body = checkText(args.input.body, 'body', 20_000, false);
      const viewer = requireViewer(ctx);
      return changeRecord(ctx, args.id, 'record:update:any', (tx) =>
        data.updateRecord(tx, viewer.tenantId, args.id, { title, body, classification: args.input.classification }),
      );
    },
    async archiveRecord(_: unknown, args: { id: string }, ctx: Ctx) {
      const viewer = requireViewer(ctx);
      return changeRecord(ctx, args.id, 'record:archive:any', (tx) => data.archiveRecord(tx, viewer.tenantId, args.id));
    },
  },
  Record: {
    __resolveReference: (reference: { id: string }, ctx: Ctx) => visibleRecord(ctx, reference.id),
    owner: (record: RecordRow) => ({ __typename: 'User', id: record.owner_id }),
    createdAt: (record: RecordRow) => record.created_at,
    updatedAt: (record: RecordRow) => record.updated_at,
    archivedAt: (record: RecordRow) => record.archived_at,
  },
  User: {
    // A stub: the users subgraph owns the profile. Records are listed under the caller's own tenant and
    // visibility, so a reference to another tenant's user lists nothing.
    __resolveReference: (reference: { id: string }, ctx: Ctx) => {
      requireScope(ctx, 'record:read');
      return { id: reference.id };
    },
    async records(user: { id: string }, args: { first?: number; after?: string }, ctx: Ctx) {
      const viewer = requireViewer(ctx);
      const page = parsePage(args);
      if (!isUuid(user.id)) return toPage([], page);
      // The page of every user of the request asking for the same page, in one statement: one loader per page.
      const pages = requestLoader<string, RecordRow[]>(ctx, `records-of:${page.limit}:${page.after?.createdAt}:${page.after?.id}`, (ids) =>
        ctx.db.withTenant(viewer.tenantId, async (tx) =>
          groupedInKeyOrder(await data.listRecordsOfOwners(tx, visibilityOf(viewer), page, ids), ids, (row) => row.owner_id),
        ),
      );
      return toPage(await pages.load(user.id), page);
    },
  },
};
