import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { loadConfig as loadGatewayConfig } from '../../gateway/config';
import { localSubgraphs } from '../../scripts/localSubgraphs';

const root = resolve(__dirname, '../..');
/** The subgraphs to deploy: those of supergraph.yaml that live in this repository. */
const SUBGRAPHS = localSubgraphs();
const NAMES = SUBGRAPHS.map((subgraph) => subgraph.name).sort();
/** The workloads that run Gatehouse's own image, and those that run Postgres's and Redis's. */
const GATEHOUSE = ['gateway', ...NAMES];
const DATA = ['redis', 'postgres'];
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const manifest = readFileSync(join(root, 'deploy/k8s/gatehouse.yaml'), 'utf8');
/** The comment above the first document: the operator's instructions. */
const header = manifest.slice(0, manifest.indexOf('\napiVersion:'));
const documents = parseAllDocuments(manifest).map((doc) => doc.toJS());
const byKind = (kind: string) => documents.filter((doc) => doc.kind === kind);
const deployment = (name: string) => [...byKind('Deployment'), ...byKind('StatefulSet')].find((doc) => doc.metadata.name === name);
/** Every document that runs pods (Deployment, StatefulSet, whatever is added), with its pod template. */
const workloads = documents.filter((doc) => doc.spec?.template?.spec);
const containersOf = (workload: any): any[] => [
  ...(workload.spec.template.spec.initContainers ?? []),
  ...workload.spec.template.spec.containers,
];
/** The TypeScript source of a compiled entry point (dist/ is built, so a fresh clone has none). */
const sourceOf = (compiled: string) => join(root, compiled.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
/** How long a Gatehouse process drains on SIGTERM before cutting connections: closeGracefully's default, service/shutdown.ts. */
const DRAIN_SECONDS = 10;
const secret = Buffer.alloc(32, 5).toString('base64url');
const SECRETS: Record<string, string> = {
  CONTEXT_SIGNING_SECRET: secret,
  AUTH_KEY_ENCRYPTION_KEY: secret,
  POSTGRES_PASSWORD: 'pw',
  ...Object.fromEntries(
    NAMES.flatMap((name) => [
      [`${name.toUpperCase()}_CONTEXT_KEY`, secret],
      [`${name.toUpperCase()}_DATABASE_URL`, `postgres://gatehouse_${name}:${name}-pw@postgres:5432/gatehouse`],
      [`${name.toUpperCase()}_DB_PASSWORD`, `${name}-pw`],
    ]),
  ),
};
/** The container's environment as Kubernetes would give it, secrets filled in. */
const envOf = (name: string): Record<string, string> =>
  Object.fromEntries(
    deployment(name).spec.template.spec.containers[0].env.map((entry: any) => [
      entry.name,
      entry.value ?? SECRETS[entry.valueFrom.secretKeyRef.key],
    ]),
  );

type ModelClass = new (data: any) => { validate(): void };
/**
 * kubernetes-models' class (its OpenAPI schema) for each apiVersion and kind, keyed by the class's own apiVersion and
 * kind. A document of a kind not here fails validation: import its class from kubernetes-models and add it.
 */
const MODELS = new Map(
  [Deployment, StatefulSet, Service, Ingress, NetworkPolicy, PodDisruptionBudget].map((Model): [string, ModelClass] => [
    `${Model.apiVersion} ${Model.kind}`,
    Model,
  ]),
);
/** Checks a document against the schema of its apiVersion and kind; throws if it fails, or if there is no schema. */
function validate(doc: { apiVersion?: string; kind?: string }): void {
  const Model = MODELS.get(`${doc.apiVersion} ${doc.kind}`);
  if (!Model) throw new Error(`no kubernetes-models class for apiVersion ${doc.apiVersion}, kind ${doc.kind}`);
  new Model(doc).validate();
}

/** A memory quantity (256Mi, 1Gi, 500M) in bytes. */
function bytes(quantity: string): number {
  const units: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
  const match = /^(\d+(?:\.\d+)?)(k|M|G|Ki|Mi|Gi)?$/.exec(String(quantity));
  if (!match) throw new Error(`unreadable memory quantity: ${quantity}`);
  return Number(match[1]) * units[match[2] ?? ''];
}

describe('the Kubernetes manifests', () => {
  it('parse and run every service of docker-compose.yml, the gateway with replicas behind a Service', () => {
    expect(documents.every((doc) => doc.apiVersion && doc.kind && doc.metadata?.name)).toBe(true);
    for (const name of [...GATEHOUSE, ...DATA]) expect({ name, deployed: Boolean(deployment(name)) }).toEqual({ name, deployed: true });
    expect(deployment('gateway').spec.replicas).toBeGreaterThanOrEqual(2);
    const services = byKind('Service')
      .map((doc) => doc.metadata.name)
      .sort();
    expect(services).toEqual([...NAMES, 'gateway', 'postgres', 'redis'].sort());
  });

  it('are valid Kubernetes objects: every document passes the OpenAPI schema of its apiVersion and kind', () => {
    const problems = documents.flatMap((doc) => {
      try {
        validate(doc);
        return [];
      } catch (error) {
        return [`${doc.kind} ${doc.metadata?.name}: ${(error as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
  });

  it('would be refused by that validation with a wrongly typed field, a missing required one, or a kind it has no schema for', () => {
    const gateway = structuredClone(deployment('gateway'));
    expect(() => validate(gateway)).not.toThrow();
    // kubernetes-models ignores fields its schemas do not name (a misspelled `replica: 2` passes), so the proof is a
    // wrong type; the fields that matter here (securityContext, resources, probes…) are checked by name below.
    expect(() => validate({ ...gateway, spec: { ...gateway.spec, replicas: 'two' } })).toThrow(/replicas must be integer/);
    const unnamed = structuredClone(gateway);
    delete unnamed.spec.template.spec.containers[0].name;
    expect(() => validate(unnamed)).toThrow(/containers\/0 must have required property name/);
    const serviceMonitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'gateway' } };
    expect(() => validate(serviceMonitor)).toThrow(/no kubernetes-models class/);
  });

  it('probe readiness and liveness on every service', () => {
    for (const name of GATEHOUSE) {
      const container = deployment(name).spec.template.spec.containers[0];
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      expect(existsSync(sourceOf(container.command[1]))).toBe(true);
    }
    for (const name of DATA) expect(deployment(name).spec.template.spec.containers[0].readinessProbe).toBeDefined();
  });

  it("run each Gatehouse service compiled, with node, from the image tagged with package.json's version", () => {
    const entryPoints: Record<string, string> = {
      gateway: 'dist/gateway/main.js',
      ...Object.fromEntries(SUBGRAPHS.map(({ name, dir }) => [name, `dist/${relative(root, dir)}/main.js`])),
    };
    for (const name of GATEHOUSE) {
      const [container] = deployment(name).spec.template.spec.containers;
      expect({ name, image: container.image, command: container.command }).toEqual({
        name,
        image: `gatehouse:${version}`,
        command: ['node', entryPoints[name]],
      });
      expect({ name, source: existsSync(sourceOf(container.command[1])) }).toEqual({ name, source: true });
    }
    // No image floats: each names a version (never :latest, never untagged, which is :latest).
    for (const workload of workloads)
      for (const { image } of containersOf(workload)) {
        expect(image).not.toMatch(/:latest$/);
        expect({ workload: workload.metadata.name, image }).toEqual({
          workload: workload.metadata.name,
          image: expect.stringMatching(/^[a-z0-9./-]+:\d+(\.\d+)+(-[a-z0-9]+)?$/),
        });
      }
    expect(header).toContain(`docker build -t gatehouse:${version} .`);
  });

  it('run every pod as a non-root user, with no service account token, privilege escalation or capabilities', () => {
    // Gatehouse's image runs as its user node (uid and gid 1000, node's images); the Debian variants of the Postgres
    // and Redis images as postgres and redis (999; their Alpine variants use other ids, hence the -bookworm tags).
    const ids = (name: string) => (GATEHOUSE.includes(name) ? 1000 : 999);
    for (const name of DATA) expect(deployment(name).spec.template.spec.containers[0].image).toMatch(/-bookworm$/);
    for (const workload of workloads) {
      const name = workload.metadata.name;
      const pod = workload.spec.template.spec;
      expect({ name, automountServiceAccountToken: pod.automountServiceAccountToken }).toEqual({
        name,
        automountServiceAccountToken: false,
      });
      expect({ name, securityContext: pod.securityContext }).toEqual({
        name,
        securityContext: expect.objectContaining({
          runAsNonRoot: true,
          runAsUser: ids(name),
          runAsGroup: ids(name),
          seccompProfile: { type: 'RuntimeDefault' },
        }),
      });
      // A persistent volume is writable by the pod's group only once fsGroup hands it over.
      if (workload.spec.volumeClaimTemplates?.length) expect(pod.securityContext.fsGroup).toBe(ids(name));
      for (const container of containersOf(workload))
        expect({ name, container: container.name, securityContext: container.securityContext }).toEqual({
          name,
          container: container.name,
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        });
    }
  });

  it('give every container, its root filesystem read-only, a volume wherever it writes', () => {
    const writes: Record<string, string[]> = {
      ...Object.fromEntries(GATEHOUSE.map((name) => [name, ['/tmp']])),
      redis: ['/data'],
      postgres: ['/var/lib/postgresql/data', '/var/run/postgresql', '/tmp'],
    };
    for (const name of [...GATEHOUSE, ...DATA]) {
      const workload = deployment(name);
      const pod = workload.spec.template.spec;
      const volumes = [
        ...(pod.volumes ?? []),
        ...(workload.spec.volumeClaimTemplates ?? []).map((claim: any) => ({ name: claim.metadata.name, persistentVolumeClaim: {} })),
      ];
      for (const path of writes[name]) {
        const mount = pod.containers[0].volumeMounts?.find((volume: { mountPath: string }) => volume.mountPath === path);
        const volume = volumes.find((candidate) => candidate.name === mount?.name);
        expect({
          name,
          path,
          readOnly: mount?.readOnly ?? false,
          writable: Boolean(volume?.emptyDir || volume?.persistentVolumeClaim),
        }).toEqual({
          name,
          path,
          readOnly: false,
          writable: true,
        });
      }
    }
    // Postgres's data directory sits below the volume's root, which is not its own (root's, group 999 by fsGroup).
    expect(envOf('postgres').PGDATA).toMatch(/^\/var\/lib\/postgresql\/data\/[^/]+$/);
  });

  it('request CPU and memory for every container and cap its memory', () => {
    for (const workload of workloads)
      for (const container of containersOf(workload)) {
        const where = `${workload.metadata.name}/${container.name}`;
        const { requests, limits } = container.resources ?? {};
        expect({ where, cpu: Boolean(requests?.cpu), memory: Boolean(requests?.memory), limit: Boolean(limits?.memory) }).toEqual({
          where,
          cpu: true,
          memory: true,
          limit: true,
        });
        expect(bytes(requests.memory)).toBeLessThanOrEqual(bytes(limits.memory));
      }
  });

  it('keep at least one pod of the gateway and of each subgraph through voluntary disruptions', () => {
    const budgets = byKind('PodDisruptionBudget');
    const selects = (budget: any, workload: any) =>
      Object.entries(budget.spec.selector.matchLabels).every(([label, value]) => workload.spec.template.metadata.labels[label] === value);
    for (const name of GATEHOUSE) {
      const workload = deployment(name);
      const mine = budgets.filter((budget) => selects(budget, workload));
      expect({ name, budgets: mine.length }).toEqual({ name, budgets: 1 });
      expect(mine[0].apiVersion).toBe('policy/v1');
      expect(mine[0].spec.minAvailable).toBe(1);
      expect(mine[0].spec.maxUnavailable).toBeUndefined(); // the API server refuses both at once
      // More replicas than the budget keeps, or no node could ever be drained.
      expect(workload.spec.replicas).toBeGreaterThan(mine[0].spec.minAvailable);
    }
    // Each budget covers one workload's pods, not several.
    for (const budget of budgets) expect(workloads.filter((workload) => selects(budget, workload))).toHaveLength(1);
  });

  it('let endpoints drop a Gatehouse pod before it gets SIGTERM, then leave it time to drain', () => {
    for (const name of GATEHOUSE) {
      const pod = deployment(name).spec.template.spec;
      const { command } = pod.containers[0].lifecycle.preStop.exec;
      expect(command).toEqual(['sleep', expect.stringMatching(/^\d+$/)]);
      const pause = Number(command[1]);
      expect(pause).toBeGreaterThan(0);
      // The grace period, counted from the preStop hook's start, covers the pause and the whole drain.
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pause + DRAIN_SECONDS);
    }
  });

  it('serve metrics on a port of their own, named for Prometheus, which no Service or Ingress exposes', () => {
    const metricsPorts = new Set<number>();
    for (const name of GATEHOUSE) {
      const pod = deployment(name).spec.template;
      const metricsPort = pod.spec.containers[0].ports.find((port: { name: string }) => port.name === 'metrics').containerPort;
      metricsPorts.add(metricsPort);
      expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(metricsPort));
      const load = name === 'gateway' ? loadGatewayConfig : SUBGRAPHS.find((subgraph) => subgraph.name === name)!.loadConfig;
      expect(load(envOf(name) as never).METRICS_PORT).toBe(metricsPort);
      const service = byKind('Service').find((doc) => doc.metadata.name === name);
      expect(service.spec.ports.map((port: { targetPort: string }) => port.targetPort)).toEqual(['http']);
    }
    for (const service of byKind('Service'))
      for (const port of service.spec.ports) {
        expect([port.name, port.targetPort]).not.toContain('metrics');
        expect(metricsPorts.has(port.targetPort)).toBe(false);
      }
    for (const ingress of byKind('Ingress'))
      for (const rule of ingress.spec.rules) for (const path of rule.http.paths) expect(path.backend.service.port.name).not.toBe('metrics');
  });

  it("expose the gateway only through an Ingress that terminates TLS and routes to the gateway Service's http port", () => {
    // No Service reaches outside the cluster: clients come in through the Ingress only.
    for (const service of byKind('Service')) expect([undefined, 'ClusterIP']).toContain(service.spec.type);
    const ingresses = byKind('Ingress');
    expect(ingresses).toHaveLength(1);
    const [ingress] = ingresses;
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.defaultBackend).toBeUndefined();
    // Every host is served over TLS, from the secret the header tells the operator to create.
    const hosts = ingress.spec.rules.map((rule: { host: string }) => rule.host);
    expect(hosts.length).toBeGreaterThan(0);
    expect(ingress.spec.tls).toEqual([{ hosts, secretName: 'gatehouse-tls' }]);
    expect(header).toMatch(/kubectl -n gatehouse create secret tls gatehouse-tls --cert=\S+ --key=\S+/);
    for (const host of hosts) expect(header).toContain(host); // the placeholder the header says to change
    // Each path ends at the gateway Service's port that targets the container's http port, and nowhere else.
    const routes = ingress.spec.rules.flatMap((rule: any) =>
      rule.http.paths.map(({ backend }: any) => {
        const service = byKind('Service').find((doc) => doc.metadata.name === backend.service.name);
        const port = service?.spec.ports.find((candidate: { name: string; port: number }) =>
          backend.service.port.name ? candidate.name === backend.service.port.name : candidate.port === backend.service.port.number,
        );
        return { service: backend.service.name, targetPort: port?.targetPort };
      }),
    );
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route).toEqual({ service: 'gateway', targetPort: 'http' });
    expect(ingress.spec.rules.flatMap((rule: any) => rule.http.paths.map((path: { path: string }) => path.path))).toEqual(['/']);
  });

  it('give each service a configuration its own loadConfig accepts in production', () => {
    const gateway = loadGatewayConfig(envOf('gateway'));
    // Exactly one proxy in front of the gateway, the ingress controller: its X-Forwarded-For entry, the last, names the client.
    expect(gateway).toMatchObject({ isProduction: true, REDIS_URL: 'redis://redis:6379', TRUST_PROXY: 1 });
    expect(Object.keys(gateway.subgraphUrls).sort()).toEqual(NAMES);
    for (const { name, loadConfig } of SUBGRAPHS) {
      const config = loadConfig(envOf(name));
      expect(config).toMatchObject({ isProduction: true, seedDemoData: false });
      expect(`http://${name}:${config.PORT}/graphql`).toBe(gateway.subgraphUrls[name]);
    }
  });

  it('let each subgraph log in to Postgres as its own role, set up by the init script mounted into Postgres', () => {
    for (const name of NAMES) {
      expect(new URL(envOf(name).DATABASE_URL).username).toBe(`gatehouse_${name}`);
      expect(envOf('postgres')[`${name.toUpperCase()}_DB_PASSWORD`]).toBe(`${name}-pw`);
    }
    expect(envOf('postgres').POSTGRES_USER).toBeUndefined();
    const pod = deployment('postgres').spec.template.spec;
    const mount = pod.containers[0].volumeMounts.find(
      (volume: { mountPath: string }) => volume.mountPath === '/docker-entrypoint-initdb.d',
    );
    expect(pod.volumes.find((volume: { name: string }) => volume.name === mount.name).configMap.name).toBe('gatehouse-postgres-init');
    // The manifest tells the operator how to make that ConfigMap from the one script docker-compose mounts too.
    expect(header).toContain('create configmap gatehouse-postgres-init --from-file=deploy/postgres/init-gatehouse.sql');
    expect(existsSync(join(root, 'deploy/postgres/init-gatehouse.sql'))).toBe(true);
  });

  it('let only gateway pods reach the subgraphs, only the ingress controller reach the gateway, and only Gatehouse pods reach Postgres and Redis', () => {
    const [subgraphs, data] = ['subgraphs-from-gateway-only', 'data-from-gatehouse-only'].map((name) =>
      byKind('NetworkPolicy').find((doc) => doc.metadata.name === name),
    );
    expect(subgraphs.spec.podSelector.matchLabels).toEqual({ 'gatehouse/role': 'subgraph' });
    const monitoring = [{ namespaceSelector: { matchLabels: { 'gatehouse/monitoring': 'true' } } }];
    expect(subgraphs.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { 'gatehouse/role': 'gateway' } } }], ports: [{ port: 'http' }] },
      { from: monitoring, ports: [{ port: 'metrics' }] },
    ]);
    // The gateway's http port answers the ingress controller's namespace; its metrics port the monitoring namespace.
    const gatewayPolicy = byKind('NetworkPolicy').find((doc) => doc.metadata.name === 'gateway-metrics-from-monitoring-only');
    expect(gatewayPolicy.spec.podSelector.matchLabels).toEqual({ 'gatehouse/role': 'gateway' });
    expect(gatewayPolicy.spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ port: 'http' }] },
      { from: monitoring, ports: [{ port: 'metrics' }] },
    ]);
    for (const name of NAMES) expect(deployment(name).spec.template.metadata.labels['gatehouse/role']).toBe('subgraph');
    expect(deployment('gateway').spec.template.metadata.labels['gatehouse/role']).toBe('gateway');
    expect(data.spec.podSelector.matchLabels).toEqual({ 'gatehouse/role': 'data' });
    for (const name of DATA) expect(deployment(name).spec.template.metadata.labels['gatehouse/role']).toBe('data');
  });
});
