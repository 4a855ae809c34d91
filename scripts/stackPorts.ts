import { z } from 'zod';
import { ConfigError, formatIssues } from '../subgraphs/kit/subgraphConfig';

/** Metrics ports sit this far above the service ports: gateway 4000 → 9400, auth 4001 → 9401, … */
export const METRICS_PORT_OFFSET = 5400;
const DEFAULT_BASE = 4000;

/** Where one service of npm start listens, and the variables that set each port (for start-up messages). */
export interface ServicePorts {
  port: number;
  metricsPort: number;
  variables: { port: string[]; metricsPort: string[] };
}

export interface StackPorts {
  gateway: ServicePorts;
  subgraphs: Record<string, ServicePorts>;
}

/** A subgraph npm start serves: its name, its place in supergraph.yaml (1 for the first) and its own default port. */
export interface StackMember {
  name: string;
  position: number;
  defaultPort: number;
}

const port = z.coerce.number().int().min(0).max(65535);

/**
 * Every port of the local stack. `PORT_BASE` moves all of them: the gateway to PORT_BASE, the subgraph at position
 * n of supergraph.yaml to PORT_BASE + n, and each metrics port to its service's + 5400. Without it, the gateway is on
 * 4000 and each subgraph on its routing URL's port (the same layout, from 4000). A service's own variables win:
 * GATEWAY_PORT (or PORT), GATEWAY_METRICS_PORT (or METRICS_PORT), <NAME>_PORT, <NAME>_METRICS_PORT. Fails with one
 * ConfigError naming every bad variable, and two services given one port.
 */
export function loadStackPorts(env: Record<string, string | undefined>, members: readonly StackMember[]): StackPorts {
  const lastPosition = Math.max(0, ...members.map((member) => member.position));
  const maxBase = 65535 - METRICS_PORT_OFFSET - lastPosition;
  const shape: Record<string, z.ZodType> = {
    PORT_BASE: z.coerce
      .number()
      .int()
      .min(1)
      .max(maxBase, `must be at most ${maxBase} (the metrics ports are PORT_BASE + ${METRICS_PORT_OFFSET} and up)`)
      .optional(),
    PORT: port.optional(),
    METRICS_PORT: port.optional(),
  };
  const services = [{ prefix: 'GATEWAY' }, ...members.map((member) => ({ prefix: member.name.toUpperCase() }))];
  for (const { prefix } of services) {
    shape[`${prefix}_PORT`] = port.optional();
    shape[`${prefix}_METRICS_PORT`] = port.optional();
  }
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) throw new ConfigError(`Invalid configuration for npm start:\n${formatIssues(parsed.error).join('\n')}`);
  const value = parsed.data as Record<string, number | undefined>;
  const base = value.PORT_BASE;

  const plan = (prefix: string, derived: number, fallback: { port?: number; metricsPort?: number } = {}): ServicePorts => ({
    port: value[`${prefix}_PORT`] ?? fallback.port ?? derived,
    metricsPort: value[`${prefix}_METRICS_PORT`] ?? fallback.metricsPort ?? derived + METRICS_PORT_OFFSET,
    variables: { port: [`${prefix}_PORT`, 'PORT_BASE'], metricsPort: [`${prefix}_METRICS_PORT`, 'PORT_BASE'] },
  });
  const ports: StackPorts = {
    gateway: plan('GATEWAY', base ?? DEFAULT_BASE, { port: value.PORT, metricsPort: value.METRICS_PORT }),
    subgraphs: Object.fromEntries(
      members.map((member) => [
        member.name,
        plan(member.name.toUpperCase(), base === undefined ? member.defaultPort : base + member.position),
      ]),
    ),
  };

  const taken = new Map<number, string>();
  const problems: string[] = [];
  for (const service of [ports.gateway, ...Object.values(ports.subgraphs)]) {
    for (const [which, number] of [
      ['port', service.port],
      ['metricsPort', service.metricsPort],
    ] as const) {
      if (number === 0) continue; // chosen by the system
      const variable = service.variables[which][0];
      const other = taken.get(number);
      if (other) problems.push(`  - ${variable}: ${number} is also ${other}`);
      else taken.set(number, variable);
    }
  }
  if (problems.length) throw new ConfigError(`Invalid configuration for npm start:\n${problems.join('\n')}`);
  return ports;
}
