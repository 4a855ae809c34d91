import { Kind, visit, type DocumentNode } from 'graphql';
import { badUserInput } from '../../auth';

const hasNul = (value: unknown): boolean => {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([key, nested]) => key.includes('\u0000') || hasNul(nested));
  return false;
};

/**
 * Postgres text cannot hold U+0000: a NUL reaching a statement fails it (SQLSTATE 22021), which would answer
 * INTERNAL_SERVER_ERROR. Refused up front, in string literals of the operation and in its variables, as
 * BAD_USER_INPUT (`nul_character`).
 */
export function assertNoNulCharacters(document: DocumentNode, variables: unknown): void {
  let found = hasNul(variables);
  if (!found) {
    visit(document, {
      [Kind.STRING](node) {
        if (node.value.includes('\u0000')) found = true;
      },
    });
  }
  if (found) throw badUserInput('Text must not contain the NUL character (U+0000)', 'nul_character');
}
