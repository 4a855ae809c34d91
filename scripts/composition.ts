import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse, Source, type DocumentNode, type GraphQLError } from 'graphql';
import { parse as parseYaml } from 'yaml';
import { formatProblem, problemAt, type SchemaProblem } from './schemaProblem';

export interface SubgraphEntry {
  name: string;
  routingUrl: string;
  schemaFile: string;
}

/** A subgraph of supergraph.yaml whose schema parsed. */
export interface SubgraphSchema extends SubgraphEntry {
  /** The schema file as problems name it: relative to the working directory. */
  displayFile: string;
  /** Parsed with its Source named `displayFile`, so every node knows where it is. */
  document: DocumentNode;
}

export type CompositionResult = { ok: true; supergraphSdl: string; hints: string[] } | { ok: false; errors: string[] };

/** The repository's supergraph.yaml: the one list of subgraphs (launcher, scripts, tests and deployment read it). */
export const SUPERGRAPH_CONFIG = resolve(__dirname, '..', 'supergraph.yaml');
/** The roles file beside a supergraph.yaml. */
export const rolesFileOf = (configPath: string) => resolve(dirname(configPath), 'roles.yaml');

/** Reads a rover-format supergraph.yaml; throws with a readable message when its shape is wrong. */
export function readSupergraphConfig(configPath: string = SUPERGRAPH_CONFIG): SubgraphEntry[] {
  const raw = parseYaml(readFileSync(configPath, 'utf8')) as {
    subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
  };
  if (!raw || typeof raw.subgraphs !== 'object') throw new Error(`${configPath}: no "subgraphs" map`);
  return Object.entries(raw.subgraphs).map(([name, entry]) => {
    if (!entry?.routing_url || !entry.schema?.file) throw new Error(`${configPath}: subgraph "${name}" needs routing_url and schema.file`);
    return { name, routingUrl: entry.routing_url, schemaFile: resolve(dirname(configPath), entry.schema.file) };
  });
}

/**
 * Reads and parses the schema of every subgraph of `configPath`. A file that cannot be read or does not parse is a
 * problem (`file:line:column`) and the others are still returned: one broken subgraph hides nothing of the rest.
 * `overrides` replaces a subgraph's SDL by name (tests).
 */
export async function readSubgraphSchemas(
  configPath: string = SUPERGRAPH_CONFIG,
  overrides: Record<string, string> = {},
): Promise<{ entries: SubgraphEntry[]; schemas: SubgraphSchema[]; problems: SchemaProblem[] }> {
  const entries = readSupergraphConfig(configPath);
  const schemas: SubgraphSchema[] = [];
  const problems: SchemaProblem[] = [];
  for (const entry of entries) {
    const displayFile = relative(process.cwd(), entry.schemaFile);
    const sdl = overrides[entry.name] ?? (await readFile(entry.schemaFile, 'utf8').catch(() => undefined));
    if (sdl === undefined) {
      problems.push({ file: displayFile, rule: 'unreadable', message: `cannot read the schema of subgraph "${entry.name}"` });
      continue;
    }
    try {
      schemas.push({ ...entry, displayFile, document: parse(new Source(sdl, displayFile)) });
    } catch (error) {
      const location = (error as GraphQLError).locations?.[0];
      const message = (error as Error).message.split('\n')[0];
      problems.push({ file: displayFile, line: location?.line, column: location?.column, rule: 'syntax', message });
    }
  }
  return { entries, schemas, problems };
}

/**
 * Where a composition error is: among the nodes it points at (one per subgraph involved), the one of the subgraph its
 * message names last (Apollo's "… in subgraphs "a" and "b" but … in subgraph "c"" names the odd one out last).
 */
function locate(error: GraphQLError, schemas: readonly SubgraphSchema[]): SchemaProblem {
  const code = error.extensions?.code ? ` [${error.extensions.code}]` : '';
  const message = `${error.message}${code}`;
  const located = (error.nodes ?? []).filter((node) => node.loc);
  const lastNamed = (file: string) => {
    const name = schemas.find((schema) => schema.displayFile === file)?.name;
    return name === undefined ? -1 : error.message.lastIndexOf(`"${name}"`);
  };
  const node = [...located].sort((a, b) => lastNamed(b.loc!.source.name) - lastNamed(a.loc!.source.name))[0];
  if (node) return problemAt(node, 'composition', message);
  const blamed = schemas.filter((schema) => error.message.includes(`"${schema.name}"`) || error.message.startsWith(`[${schema.name}]`));
  return { file: blamed[0]?.displayFile ?? 'supergraph.yaml', rule: 'composition', message };
}

/** Composes parsed subgraph schemas with @apollo/composition; each error located in the subgraph it blames. */
export function composeSchemas(
  schemas: readonly SubgraphSchema[],
): { ok: true; supergraphSdl: string; hints: string[] } | { ok: false; problems: SchemaProblem[] } {
  const result = composeServices(schemas.map((schema) => ({ name: schema.name, url: schema.routingUrl, typeDefs: schema.document })));
  if (result.errors) return { ok: false, problems: result.errors.map((error) => locate(error, schemas)) };
  return { ok: true, supergraphSdl: result.supergraphSdl, hints: (result.hints ?? []).map((hint) => hint.toString()) };
}

/**
 * Composes the subgraphs of `configPath`. Errors are one line each, `file:line:column: message`: every schema that
 * does not parse, or else each composition error in the subgraph it blames.
 */
export async function composeSupergraph(configPath: string, overrides: Record<string, string> = {}): Promise<CompositionResult> {
  const { schemas, problems } = await readSubgraphSchemas(configPath, overrides);
  if (problems.length) return { ok: false, errors: problems.map(formatProblem) };
  const result = composeSchemas(schemas);
  return result.ok ? result : { ok: false, errors: result.problems.map(formatProblem) };
}
