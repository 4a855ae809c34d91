import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { parse } from 'yaml';
import { loadConfig as loadGatewayConfig } from '../../gateway/config';
import { localSubgraphs } from '../../scripts/localSubgraphs';

const root = resolve(__dirname, '../..');
/** The subgraphs to deploy: those of supergraph.yaml that live in this repository. */
const SUBGRAPHS = localSubgraphs();
const NAMES = SUBGRAPHS.map((subgraph) => subgraph.name).sort();
const secret = Buffer.alloc(32, 9).toString('base64url');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** The TypeScript source of a compiled entry point (dist/ is built, so a fresh clone has none). */
const sourceOf = (compiled: string) => join(root, compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts'));

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

  it('runs each service compiled, from the versioned image, with a health check and its dependencies healthy first', () => {
    for (const name of [...NAMES, 'gateway-1', 'gateway-2']) {
      const service = services[name];
      expect(service.image).toBe(`gatehouse:${version}`);
      expect(service.command[0]).toBe('node');
      expect(service.command[1]).toMatch(/^dist\/.+\.js$/);
      expect(existsSync(sourceOf(service.command[1]))).toBe(true);
      expect(service.healthcheck.test.join(' ')).toContain('/health/ready');
      for (const dependency of Object.values(service.depends_on) as Array<{ condition: string }>)
        expect(dependency.condition).toBe('service_healthy');
    }
    expect(services.lb.healthcheck.test.join(' ')).toContain('/health/ready');
    expect(Object.keys(services['gateway-1'].depends_on).sort()).toEqual([...NAMES, 'redis'].sort());
    expect(Object.keys(services.lb.depends_on).sort()).toEqual(['gateway-1', 'gateway-2']);
    expect(services.auth.environment.REDIS_URL).toBe(services['gateway-1'].environment.REDIS_URL);
    for (const service of Object.values(services)) expect(service.image).toMatch(/:\d+(\.\d+)+(-[a-z0-9]+)?$/);
  });

  it('runs Gatehouse services with a read-only root filesystem, no capabilities and no privilege escalation', () => {
    for (const name of [...NAMES, 'gateway-1', 'gateway-2']) {
      const service = services[name];
      expect({ name, read_only: service.read_only, cap_drop: service.cap_drop }).toEqual({ name, read_only: true, cap_drop: ['ALL'] });
      expect(service.security_opt).toContain('no-new-privileges:true');
      expect(service.user).toBeUndefined(); // the image's own non-root user
    }
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
});

describe('the Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const args = Object.fromEntries(dockerfile.getARGs().map((arg) => [arg.getProperty()!.getName(), arg.getProperty()!.getValue()]));
  const resolveArgs = (text: string) => text.replace(/\$\{(\w+)\}/g, (_all, name: string) => args[name] ?? '');
  /** Each stage: its base image (ARGs resolved), its name, and its instructions as words. */
  const stages = dockerfile.getFROMs().map((from, index, froms) => {
    const start = from.getRange().start.line;
    const end = froms[index + 1]?.getRange().start.line ?? Infinity;
    return {
      image: resolveArgs(from.getImage()!),
      name: from.getBuildStage(),
      instructions: dockerfile
        .getInstructions()
        .filter((instruction) => instruction.getRange().start.line > start && instruction.getRange().start.line < end)
        .map((instruction) => ({
          keyword: instruction.getKeyword(),
          flags:
            'getFlags' in instruction ? (instruction as any).getFlags().map((flag: any) => `${flag.getName()}=${flag.getValue()}`) : [],
          words: instruction.getArguments().map((argument) => argument.getValue()),
          text: instruction.getTextContent(),
        })),
    };
  });
  const final = stages[stages.length - 1];
  const runs = (stage: (typeof stages)[number]) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.words.join(' '));

  it('pins one current Node.js LTS slim image by exact version in every stage', () => {
    const images = new Set(stages.map((stage) => stage.image));
    expect(images.size).toBe(1);
    const [image] = images;
    const match = /^node:(\d+)\.\d+\.\d+-[a-z]+-slim$/.exec(image);
    expect(match).not.toBeNull();
    // An LTS line (even major), and one the engines field of package.json accepts.
    expect(Number(match![1]) % 2).toBe(0);
    expect(Number(match![1])).toBeGreaterThanOrEqual(22);
  });

  it('compiles in a build stage with every dependency, and ships production dependencies only, installed from the lock', () => {
    const build = stages.find((stage) => stage.name === 'build')!;
    expect(runs(build)).toEqual(['npm ci --no-audit --no-fund', 'npm run build']);
    // The build stage copies every folder that tsconfig.build.json compiles.
    const { include } = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
    const copied = build.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.words[0]);
    for (const folder of include) expect(copied).toContain(folder);
    const deps = stages.find((stage) => stage.name === 'deps')!;
    expect(runs(deps)[0]).toMatch(/^npm ci --omit=dev\b/);
    for (const stage of stages) for (const run of runs(stage)) expect(run).not.toMatch(/npm (install|i)\b/);
  });

  it('runs compiled code only, as a non-root user, with a health check on the service port', () => {
    const copies = final.instructions.filter((i) => i.keyword === 'COPY');
    expect(copies.filter((i) => i.flags.length).map((i) => [i.flags, i.words[0]])).toEqual([
      [['from=deps'], '/app/node_modules'],
      [['from=build'], '/app/dist'],
    ]);
    // From the build context, only the files the compiled services read at run time: no sources, no tests.
    expect(copies.filter((i) => !i.flags.length).flatMap((i) => i.words.slice(0, -1))).toEqual([
      'package.json',
      'supergraph.graphql',
      'roles.yaml',
    ]);
    const user = final.instructions.filter((i) => i.keyword === 'USER').map((i) => i.words[0]);
    expect(user).toEqual(['node']);
    const healthcheck = final.instructions.find((i) => i.keyword === 'HEALTHCHECK')!.text;
    expect(healthcheck).toContain('/health/ready');
    expect(healthcheck).toContain('process.env.PORT');
    const command = JSON.parse(final.instructions.find((i) => i.keyword === 'CMD')!.text.replace(/^CMD\s+/, ''));
    expect(command[0]).toBe('node');
    expect(existsSync(sourceOf(command[1]))).toBe(true);
    expect(final.instructions.find((i) => i.keyword === 'ENV')!.words).toContain('NODE_ENV=production');
  });
});
