import { getLocation, type ASTNode } from 'graphql';

/**
 * One problem the schema check found, where it is: `file:line:column: message` (tsc's and rover's shape, which
 * terminals and editors jump to). `rule` names the check, for `--json` readers.
 */
export interface SchemaProblem {
  file: string;
  line?: number;
  column?: number;
  rule: string;
  message: string;
  /** Lines printed under the problem, indented (a diff). */
  detail?: string[];
}

/** A problem at a node of a parsed SDL: the file is the name its Source was parsed under (see readSubgraphSchemas). */
export function problemAt(node: ASTNode, rule: string, message: string): SchemaProblem {
  const loc = node.loc;
  if (!loc) return { file: '<unknown>', rule, message };
  const { line, column } = getLocation(loc.source, loc.start);
  return { file: loc.source.name, line, column, rule, message };
}

/** `file:line:column: message`, the column and line left out when the problem has none. */
export function formatProblem(problem: SchemaProblem): string {
  const where = problem.line === undefined ? '' : `:${problem.line}${problem.column === undefined ? '' : `:${problem.column}`}`;
  return `${problem.file}${where}: ${problem.message}`;
}

/** Problems in file order: by file, then line, then column (a run reads like a compiler's). */
export function sortProblems(problems: readonly SchemaProblem[]): SchemaProblem[] {
  return [...problems].sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
