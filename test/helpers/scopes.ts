import { resolve } from 'node:path';
import { loadRoleTable } from '../../auth';

/** The repository's roles file, as the gateway reads it. */
export const roleTable = loadRoleTable(resolve(__dirname, '..', '..', 'roles.yaml'));

/** The scopes the gateway would sign for a caller of `roles` (for contexts a test signs itself). */
export const scopesOf = (roles: readonly string[]) => roleTable.scopesOf(roles);
