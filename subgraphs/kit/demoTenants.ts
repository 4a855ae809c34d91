/**
 * The demo tenants and people that every subgraph seeds its own part of (development and tests only).
 * Ids are fixed so that the users, auth, records and complaints seeds agree without reading each other's tables.
 */
export const DEMO_PASSWORD = 'gatehouse-demo';

export interface DemoUser {
  id: string;
  email: string;
  displayName: string;
  role: 'ADMIN' | 'MANAGER' | 'AGENT' | 'MEMBER';
}
export interface DemoTenant {
  id: string;
  slug: string;
  name: string;
  users: Record<'admin' | 'manager' | 'agent' | 'member', DemoUser>;
}

function tenant(n: number, slug: string, name: string): DemoTenant {
  const user = (m: number, role: DemoUser['role'], displayName: string): DemoUser => ({
    id: `0000000${n}-0000-4000-8000-00000000000${m}`,
    email: `${role.toLowerCase()}@${slug}.example`,
    displayName,
    role,
  });
  const cap = name.split(' ')[0];
  return {
    id: `0000000${n}-0000-4000-8000-000000000000`,
    slug,
    name,
    users: {
      admin: user(1, 'ADMIN', `${cap} Admin`),
      manager: user(2, 'MANAGER', `${cap} Manager`),
      agent: user(3, 'AGENT', `${cap} Agent`),
      member: user(4, 'MEMBER', `${cap} Member`),
    },
  };
}

export const DEMO_TENANTS: readonly DemoTenant[] = [tenant(1, 'acme', 'Acme Corporation'), tenant(2, 'globex', 'Globex Corporation')];

/** A fixed id for the n-th demo row of a kind in a tenant (kind 1: records, 2: complaints, 3: comments). */
export function demoId(tenant: DemoTenant, kind: number, n: number): string {
  return `${tenant.id.slice(0, 8)}-000${kind}-4000-8000-${String(n).padStart(12, '0')}`;
}
