import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig as loadGatewayConfig } from '../../gateway/config';
import { localSubgraphs } from '../../scripts/localSubgraphs';

const root = resolve(__dirname, '../..');
/** The subgraphs to deploy: those of supergraph.yaml that live in this repository. */
const SUBGRAPHS = localSubgraphs();
const NAMES = SUBGRAPHS.map((subgraph) => subgraph.name).sort();
const secret = Buffer.alloc(32, 9).toString('base64url');

/** docker compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, with the values an operator sets. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_all, name: string, kind?: string, rest?: string) => {
    if (env[name] !== undefined) return env[name];
    if (kind === '-') return rest ?? '';
    throw new Error(`${name} is required: ${rest}`);
  });
}

const operatorEnv: Record<string, string> = {
  POSTGRES_PASSWORD: 'pw',
  CONTEXT_SIGNING_SECRET: secret,
  AUTH_KEY_ENCRYPTION_KEY: secret,
  ...Object.fromEntries(
    NAMES.flatMap((name) => [
      [`${name.toUpperCase()}_CONTEXT_KEY`, secret],
      [`${name.toUpperCase()}_DB_PASSWORD`, `${name}-pw`],
    ]),
  ),
};
const raw = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(interpolate(raw, operatorEnv), { merge: true });
const services = compose.services as Record<string, any>;

describe('docker-compose.yml', () => {
  it('names every service: Postgres, Redis, each subgraph of supergraph.yaml, two gateway instances and the load balancer', () => {
    expect(Object.keys(services).sort()).toEqual([...NAMES, 'gateway-1', 'gateway-2', 'lb', 'postgres', 'redis'].sort());
    const nginx = readFileSync(join(root, services.lb.volumes[0].split(':')[0]), 'utf8');
    expect(nginx).toMatch(/server gateway-1:4000;\s+server gateway-2:4000;/);
  });

  it('refuses to start without the secrets an operator must provide', () => {
    expect(() => interpolate(raw, {})).toThrow(/POSTGRES_PASSWORD|CONTEXT/);
  });

  it('gives each service a configuration its own loadConfig accepts in production', () => {
    for (const { name, loadConfig } of SUBGRAPHS) {
      const config = loadConfig(services[name].environment);
      expect(config).toMatchObject({ isProduction: true, seedDemoData: false, PORT: Number(services[name].environment.PORT) });
      expect(config.DATABASE_URL).toMatch(/@postgres:5432\//);
    }
    for (const instance of ['gateway-1', 'gateway-2']) {
      const gateway = loadGatewayConfig(services[instance].environment);
      expect(gateway).toMatchObject({ isProduction: true, introspection: false, TRUST_PROXY: 1, REDIS_URL: 'redis://redis:6379' });
      expect(Object.keys(gateway.subgraphUrls).sort()).toEqual(NAMES);
      for (const [name, url] of Object.entries(gateway.subgraphUrls)) {
        expect(url).toBe(`http://${name}:${services[name].environment.PORT}/graphql`);
      }
    }
  });

  it('runs each service from a file that exists, with a health check and its dependencies healthy first', () => {
    for (const name of [...NAMES, 'gateway-1', 'gateway-2']) {
      const service = services[name];
      expect(existsSync(join(root, service.command[1]))).toBe(true);
      expect(service.healthcheck.test.join(' ')).toContain('/health/ready');
      for (const dependency of Object.values(service.depends_on) as Array<{ condition: string }>)
        expect(dependency.condition).toBe('service_healthy');
    }
    expect(services.lb.healthcheck.test.join(' ')).toContain('/health/ready');
    expect(Object.keys(services['gateway-1'].depends_on).sort()).toEqual([...NAMES, 'redis'].sort());
    expect(Object.keys(services.lb.depends_on).sort()).toEqual(['gateway-1', 'gateway-2']);
    expect(services.auth.environment.REDIS_URL).toBe(services['gateway-1'].environment.REDIS_URL);
  });

  it('lets each subgraph log in to Postgres as its own role, which the init script makes owner of its schema only', () => {
    const mount = services.postgres.volumes.find((volume: string) => volume.endsWith(':/docker-entrypoint-initdb.d/10-gatehouse.sql:ro'));
    const init = readFileSync(join(root, mount.split(':')[0]), 'utf8');
    for (const name of NAMES) {
      const url = new URL(services[name].environment.DATABASE_URL);
      expect({ name, user: url.username, password: url.password }).toEqual({ name, user: `gatehouse_${name}`, password: `${name}-pw` });
      expect(services.postgres.environment[`${name.toUpperCase()}_DB_PASSWORD`]).toBe(`${name}-pw`);
      expect(init).toContain(`ALTER ROLE gatehouse_${name} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS`);
      expect(init).toContain(`CREATE SCHEMA IF NOT EXISTS ${name} AUTHORIZATION gatehouse_${name};`);
    }
    // The superuser is Postgres's own: no service has its password.
    expect(services.postgres.environment.POSTGRES_USER).toBeUndefined();
    for (const service of Object.values(services)) expect(service.environment?.DATABASE_URL ?? '').not.toMatch(/\/\/postgres:/);
  });

  it("publishes one port, the load balancer's; subgraphs, Postgres and Redis are reachable from the gateways only", () => {
    expect(compose.networks.backend.internal).toBe(true);
    for (const [name, service] of Object.entries(services)) {
      if (name === 'lb') {
        expect(service.ports).toEqual(['4000:80']);
        expect(service.networks).toEqual(['frontend']);
      } else if (name.startsWith('gateway-')) {
        expect(service.ports).toBeUndefined();
        expect(service.networks).toEqual(['frontend', 'backend']);
      } else {
        expect(service.ports).toBeUndefined();
        expect(service.networks).toEqual(['backend']);
      }
    }
  });

  it('builds from a Dockerfile that copies every runtime folder', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    for (const folder of ['auth', 'service', 'gateway', 'subgraphs']) expect(dockerfile).toContain(`COPY ${folder} ./${folder}`);
    expect(dockerfile).toContain('supergraph.graphql');
    expect(dockerfile).toContain('roles.yaml'); // the gateway's scopes and the auth service's grants
  });
});
