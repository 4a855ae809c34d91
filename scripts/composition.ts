import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import { parse as parseYaml } from 'yaml';

export interface SubgraphEntry {
  name: string;
  routingUrl: string;
  schemaFile: string;
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

function describe(error: GraphQLError): string {
  const code = error.extensions?.code ? ` [${error.extensions.code}]` : '';
  return `${error.message}${code}`;
}

/**
 * Composes the subgraphs of `configPath` with @apollo/composition. Errors are grouped per subgraph where one is
 * to blame: a file that does not parse names the subgraph, file, line and column.
 */
export async function composeSupergraph(configPath: string, overrides: Record<string, string> = {}): Promise<CompositionResult> {
  const entries = readSupergraphConfig(configPath);
  const errors: string[] = [];
  const services: { name: string; url: string; typeDefs: DocumentNode }[] = [];
  for (const entry of entries) {
    const sdl = overrides[entry.name] ?? (await readFile(entry.schemaFile, 'utf8').catch(() => undefined));
    if (sdl === undefined) {
      errors.push(`subgraph "${entry.name}": cannot read ${entry.schemaFile}`);
      continue;
    }
    try {
      services.push({ name: entry.name, url: entry.routingUrl, typeDefs: parse(sdl) });
    } catch (error) {
      // One line a terminal or an editor can jump to: file:line:column: message.
      const location = (error as GraphQLError).locations?.[0];
      const where = location ? `:${location.line}:${location.column}` : '';
      errors.push(`${relative(process.cwd(), entry.schemaFile)}${where}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  if (errors.length) return { ok: false, errors };
  const result = composeServices(services);
  if (result.errors) {
    return {
      ok: false,
      errors: result.errors.map((error) => {
        const blamed = entries.filter((entry) => error.message.includes(`"${entry.name}"`) || error.message.startsWith(`[${entry.name}]`));
        const prefix = blamed.length ? `subgraph ${blamed.map((entry) => `"${entry.name}"`).join(', ')}: ` : 'composition: ';
        return prefix + describe(error);
      }),
    };
  }
  return { ok: true, supergraphSdl: result.supergraphSdl, hints: (result.hints ?? []).map((hint) => hint.toString()) };
}
