import { badUserInput, hasScope, notFound, type ContextUser } from '../../auth';
import {
  DateTime,
  assertReferenceVisible,
  groupedInKeyOrder,
  inKeyOrder,
  isUuid,
  parsePage,
  requestLoader,
  requireScope,
  requireViewer,
  toPage,
  type EventOutbox,
  type Tx,
  type SubgraphContext,
} from '../kit';
import * as data from './data/complaints';
import type { CommentRow, ComplaintRow, ComplaintStatus, Scope } from './data/complaints';

type Ctx = SubgraphContext;

/** The workflow: which status may follow which. CLOSED is final. */
export const STATUS_TRANSITIONS: Readonly<Record<ComplaintStatus, readonly ComplaintStatus[]>> = {
  OPEN: ['IN_PROGRESS', 'CLOSED'],
  IN_PROGRESS: ['RESOLVED', 'OPEN'],
  RESOLVED: ['CLOSED', 'IN_PROGRESS'],
  CLOSED: [],
};

/** Staff see every complaint of the tenant; everyone else only the ones they filed. */
function scopeOf(viewer: ContextUser): Scope {
  return { tenantId: viewer.tenantId, onlyFiledBy: hasScope(viewer, 'complaint:read:all') ? null : viewer.id };
}

async function visibleComplaint(ctx: Ctx, id: unknown): Promise<ComplaintRow | null> {
  // The same checks as Query.complaint (permission, then scope), for direct queries and references alike.
  const viewer = requireScope(ctx, 'complaint:file');
  if (!isUuid(id)) return null;
  // Every complaint the request looks up (each reference of an _entities call) in one statement of the caller's tenant.
  const complaints = requestLoader<string, ComplaintRow | null>(ctx, 'complaints', (ids) =>
    ctx.db.withTenant(viewer.tenantId, async (tx) => inKeyOrder(await data.findComplaints(tx, scopeOf(viewer), ids), ids, (row) => row.id)),
  );
  return complaints.load(id);
}

function text(value: string, field: string, max: number): string {
  const trimmed = (value ?? '').trim();
  if (!trimmed) throw badUserInput(`"${field}" must not be empty`);
  if (trimmed.length > max) throw badUserInput(`"${field}" must be at most ${max} characters`);
  return trimmed;
}

const userRef = (id: string | null) => (id ? { __typename: 'User', id } : null);

/** What `Subscription.complaintUpdated` tells its subscribers (in each payload's extensions). */
export type ComplaintChange = 'FILED' | 'ASSIGNED' | 'STATUS_CHANGED' | 'COMMENTED';

/**
 * The complaints subgraph's resolvers. Each change writes its event to the outbox in its own transaction (it is
 * announced only if it commits), and the outbox is relayed once the request's writes are committed.
 */
export function createResolvers(events: Pick<EventOutbox, 'record' | 'flush'>) {
  // Who may hear of it is who may read it (scopeOf): the filer, and staff of the tenant.
  const announce = (tx: Tx, complaint: Pick<ComplaintRow, 'id' | 'tenant_id' | 'filed_by'>, change: ComplaintChange) =>
    events.record(tx, {
      topic: 'complaints',
      id: complaint.id,
      tenantId: complaint.tenant_id,
      audience: { userIds: [complaint.filed_by], scope: 'complaint:read:all' },
      change,
    });
  const relay = (ctx: Ctx) => ctx.afterCommit(async () => void events.flush().catch(() => undefined));

  /**
   * Runs `apply` on a complaint the caller can see, locked (NOT_FOUND otherwise, another tenant's id included), and
   * announces `change` in the same transaction; relays once it is committed.
   */
  async function changeComplaint<T>(
    ctx: Ctx,
    id: string,
    change: ComplaintChange,
    apply: (tx: Tx, complaint: ComplaintRow, viewer: ContextUser) => Promise<T>,
  ): Promise<T> {
    const viewer = requireViewer(ctx);
    if (!isUuid(id)) throw notFound('Complaint not found');
    const result = await ctx.db.withTenant(viewer.tenantId, async (tx) => {
      const complaint = await data.findComplaint(tx, scopeOf(viewer), id, true);
      if (!complaint) throw notFound('Complaint not found');
      const applied = await apply(tx, complaint, viewer);
      // Its id, tenant and filer never change: the locked row names who may hear of it.
      await announce(tx, complaint, change);
      return applied;
    });
    await relay(ctx);
    return result;
  }
  return {
    DateTime,
    Query: {
      async complaint(_: unknown, args: { id: string }, ctx: Ctx) {
        const complaint = await visibleComplaint(ctx, args.id);
        if (!complaint) throw notFound('Complaint not found');
        return complaint;
      },
      async complaints(_: unknown, args: { status?: ComplaintStatus; first?: number; after?: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        const page = parsePage(args);
        const rows = await ctx.db.withTenant(viewer.tenantId, (tx) =>
          data.listComplaints(tx, scopeOf(viewer), page, { status: args.status }),
        );
        return toPage(rows, page);
      },
    },
    Mutation: {
      async fileComplaint(
        _: unknown,
        args: { input: { subject: string; description: string; relatedRecordId?: string | null } },
        ctx: Ctx,
      ) {
        const viewer = requireViewer(ctx);
        const subject = text(args.input.subject, 'subject', 200);
        const description = text(args.input.description, 'description', 20_000);
        const relatedRecordId = args.input.relatedRecordId ?? null;
        if (relatedRecordId !== null && !isUuid(relatedRecordId)) throw badUserInput('"relatedRecordId" is not a record id');
        // Owned by the records subgraph: only a record the caller can see there (@references in the schema).
        if (relatedRecordId !== null) assertReferenceVisible(ctx, 'record', relatedRecordId, 'Record not found');
        const complaint = await ctx.db.withTenant(viewer.tenantId, async (tx) => {
          const filed = await data.insertComplaint(tx, {
            tenantId: viewer.tenantId,
            filedBy: viewer.id,
            subject,
            description,
            relatedRecordId,
          });
          await announce(tx, filed, 'FILED');
          return filed;
        });
        await relay(ctx);
        return complaint;
      },
      async assignComplaint(_: unknown, args: { id: string; assigneeId: string }, ctx: Ctx) {
        if (!isUuid(args.assigneeId)) throw badUserInput('"assigneeId" is not a user id');
        assertReferenceVisible(ctx, 'user', args.assigneeId, 'User not found');
        return changeComplaint(ctx, args.id, 'ASSIGNED', (tx, complaint, viewer) =>
          data.setAssignee(tx, viewer.tenantId, complaint.id, args.assigneeId),
        );
      },
      async updateComplaintStatus(_: unknown, args: { id: string; status: ComplaintStatus }, ctx: Ctx) {
        return changeComplaint(ctx, args.id, 'STATUS_CHANGED', (tx, complaint, viewer) => {
          if (!STATUS_TRANSITIONS[complaint.status].includes(args.status)) {
            throw badUserInput(`A ${complaint.status} complaint cannot become ${args.status}`, 'illegal_transition');
          }
          return data.setStatus(tx, viewer.tenantId, complaint.id, args.status);
        });
      },
      async addComplaintComment(_: unknown, args: { id: string; body: string }, ctx: Ctx) {
        const body = text(args.body, 'body', 5000);
        // Visible means filed by the caller, or the caller is staff: exactly who may comment.
        return changeComplaint(ctx, args.id, 'COMMENTED', (tx, complaint, viewer) =>
          data.insertComment(tx, { tenantId: viewer.tenantId, complaintId: complaint.id, authorId: viewer.id, body }),
        );
      },
    },
    Complaint: {
      __resolveReference: (reference: { id: string }, ctx: Ctx) => visibleComplaint(ctx, reference.id),
      filedBy: (complaint: ComplaintRow) => userRef(complaint.filed_by),
      assignee: (complaint: ComplaintRow) => userRef(complaint.assignee_id),
      relatedRecord: (complaint: ComplaintRow) =>
        complaint.related_record_id ? { __typename: 'Record', id: complaint.related_record_id } : null,
      internalNotes: (complaint: ComplaintRow) => complaint.internal_notes,
      createdAt: (complaint: ComplaintRow) => complaint.created_at,
      comments(complaint: ComplaintRow, _: unknown, ctx: Ctx) {
        // The comments of every complaint of the page in one statement (complaints are read within one tenant).
        const comments = requestLoader<string, CommentRow[]>(ctx, 'comments', (ids) =>
          ctx.db.withTenant(complaint.tenant_id, async (tx) =>
            groupedInKeyOrder(await data.listCommentsOf(tx, complaint.tenant_id, ids), ids, (row) => row.complaint_id),
          ),
        );
        return comments.load(complaint.id);
      },
    },
    ComplaintComment: {
      author: (comment: CommentRow) => userRef(comment.author_id),
      createdAt: (comment: CommentRow) => comment.created_at,
    },
    User: {
      __resolveReference: (reference: { id: string }, ctx: Ctx) => {
        requireViewer(ctx);
        return { id: reference.id };
      },
      async complaints(user: { id: string }, args: { status?: ComplaintStatus; first?: number; after?: string }, ctx: Ctx) {
        const viewer = requireViewer(ctx);
        const page = parsePage(args);
        if (!isUuid(user.id)) return toPage([], page);
        // The page of every user of the request asking for the same page, in one statement: one loader per page.
        const status = args.status ?? null;
        const pages = requestLoader<string, ComplaintRow[]>(
          ctx,
          `complaints-of:${status}:${page.limit}:${page.after?.createdAt}:${page.after?.id}`,
          (ids) =>
            ctx.db.withTenant(viewer.tenantId, async (tx) =>
              groupedInKeyOrder(await data.listComplaintsOfFilers(tx, scopeOf(viewer), page, status, ids), ids, (row) => row.filed_by),
            ),
        );
        return toPage(await pages.load(user.id), page);
      },
    },
  };
}
