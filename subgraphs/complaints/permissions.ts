import { allow, can, isAuthenticated, isOwnerOr, ownsTargetOr } from '../../auth';

export const permissions = {
  Query: { complaint: can('complaint:file'), complaints: can('complaint:file') },
  Mutation: {
    fileComplaint: can('complaint:file'),
    assignComplaint: can('complaint:assign'),
    updateComplaintStatus: can('complaint:update-status'),
    // Filer or staff: the resolver only finds complaints the caller may see.
    addComplaintComment: ownsTargetOr('complaint:read:all'),
  },
  Complaint: {
    id: allow, // entity key
    subject: isAuthenticated,
    description: isAuthenticated,
    status: isAuthenticated,
    filedBy: isAuthenticated,
    assignee: isAuthenticated,
    relatedRecord: isAuthenticated,
    internalNotes: can('complaint:read:internal'),
    comments: isAuthenticated,
    createdAt: isAuthenticated,
  },
  ComplaintComment: { id: isAuthenticated, author: isAuthenticated, body: isAuthenticated, createdAt: isAuthenticated },
  User: { id: allow, complaints: isOwnerOr('user.complaints', (user: { id: string }) => user.id, 'complaint:read:all') },
  Record: { id: allow },
  ComplaintConnection: { nodes: isAuthenticated, pageInfo: isAuthenticated },
  PageInfo: { hasNextPage: allow, endCursor: allow },
};
