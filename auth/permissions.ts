/**
 * The one role → permission table. It feeds `viewer.permissions` in the auth subgraph and every subgraph's
 * graphql-shield rules, so what a frontend is told and what the services enforce cannot drift apart.
 */
export const ROLES = ['ADMIN', 'MANAGER', 'AGENT', 'MEMBER'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'profile:read': 'See the display names and tenant of users in the own tenant',
  'user:read:email': "See other users' email addresses",
  'user:read:roles': "See other users' roles",
  'user:list': 'List the users of the tenant',
  'user:manage': 'Create, disable and change the roles of users',
  'record:read': 'Read own records and the PUBLIC records of the tenant',
  'record:read:internal': 'Read INTERNAL records of others',
  'record:read:confidential': 'Read CONFIDENTIAL records of others',
  'record:create': 'Create records',
  'record:update:any': 'Update records owned by others',
  'record:archive:any': 'Archive records owned by others',
  'complaint:file': 'File complaints and comment on own complaints',
  'complaint:read:all': 'Read every complaint of the tenant and comment on them',
  'complaint:read:internal': 'Read the internal notes of complaints',
  'complaint:assign': 'Assign complaints to staff',
  'complaint:update-status': 'Move complaints through their workflow',
  'session:revoke:any': 'Revoke the sessions of other users',
  'audit:read': 'Read the audit log of the tenant',
} as const;
export type Permission = keyof typeof PERMISSIONS;

const MEMBER: readonly Permission[] = ['profile:read', 'record:read', 'record:create', 'complaint:file'];
const AGENT: readonly Permission[] = [
  ...MEMBER,
  'user:read:email',
  'user:read:roles',
  'user:list',
  'record:read:internal',
  'complaint:read:all',
  'complaint:read:internal',
  'complaint:update-status',
];
const MANAGER: readonly Permission[] = [
  ...AGENT,
  'record:read:confidential',
  'record:update:any',
  'record:archive:any',
  'complaint:assign',
];
const ADMIN: readonly Permission[] = [...MANAGER, 'user:manage', 'session:revoke:any', 'audit:read'];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = Object.freeze({
  ADMIN: new Set(ADMIN),
  MANAGER: new Set(MANAGER),
  AGENT: new Set(AGENT),
  MEMBER: new Set(MEMBER),
});

/** True when `value` names a role of the table. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The union of the permissions of `roles`, sorted; unknown role names grant nothing. */
export function permissionsFor(roles: readonly string[]): Permission[] {
  const granted = new Set<Permission>();
  for (const role of roles) {
    if (isRole(role)) for (const permission of ROLE_PERMISSIONS[role]) granted.add(permission);
  }
  return [...granted].sort();
}

/** True when any of `roles` grants `permission`. */
export function hasPermission(roles: readonly string[], permission: Permission): boolean {
  for (const role of roles) if (isRole(role) && ROLE_PERMISSIONS[role].has(permission)) return true;
  return false;
}
