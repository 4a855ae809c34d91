import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig as loadGatewayConfig } from '../../gateway/config';
import { localSubgraphs } from '../../scripts/localSubgraphs';

const root = resolve(__dirname, '../..');
/** The subgraphs to deploy: those of supergraph.yaml that live in this repository. */
const SUBGRAPHS = localSubgraphs();
const NAMES = SUBGRAPHS.map((subgraph) => subgraph.name).sort();
const documents = parseAllDocuments(readFileSync(join(root, 'deploy/k8s/gatehouse.yaml'), 'utf8')).map((doc) => doc.toJS());
const byKind = (kind: string) => documents.filter((doc) => doc.kind === kind);
const deployment = (name: string) => [...byKind('Deployment'), ...byKind('StatefulSet')].find((doc) => doc.metadata.name === name);
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

describe('the Kubernetes manifests', () => {
  it('parse and run every service of docker-compose.yml, the gateway with replicas behind a Service', () => {
    expect(documents.every((doc) => doc.apiVersion && doc.kind && doc.metadata?.name)).toBe(true);
    for (const name of ['gateway', ...NAMES, 'redis', 'postgres'])
      expect({ name, deployed: Boolean(deployment(name)) }).toEqual({ name, deployed: true });
    expect(deployment('gateway').spec.replicas).toBeGreaterThanOrEqual(2);
    const services = byKind('Service')
      .map((doc) => doc.metadata.name)
      .sort();
    expect(services).toEqual([...NAMES, 'gateway', 'postgres', 'redis'].sort());
  });

  it('probe readiness and liveness on every service', () => {
    for (const name of ['gateway', ...NAMES]) {
      const container = deployment(name).spec.template.spec.containers[0];
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      expect(existsSync(join(root, container.command[1]))).toBe(true);
    }
    for (const name of ['redis', 'postgres']) expect(deployment(name).spec.template.spec.containers[0].readinessProbe).toBeDefined();
  });

  it('serve metrics on a port of their own, named for Prometheus, which no Service exposes', () => {
    for (const name of ['gateway', ...NAMES]) {
      const pod = deployment(name).spec.template;
      const metricsPort = pod.spec.containers[0].ports.find((port: { name: string }) => port.name === 'metrics').containerPort;
      expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(metricsPort));
      const load = name === 'gateway' ? loadGatewayConfig : SUBGRAPHS.find((subgraph) => subgraph.name === name)!.loadConfig;
      expect(load(envOf(name) as never).METRICS_PORT).toBe(metricsPort);
      const service = byKind('Service').find((doc) => doc.metadata.name === name);
      expect(service.spec.ports.map((port: { targetPort: string }) => port.targetPort)).toEqual(['http']);
    }
  });

  it('give each service a configuration its own loadConfig accepts in production', () => {
    const gateway = loadGatewayConfig(envOf('gateway'));
    // The LoadBalancer Service adds no X-Forwarded-For: a client-written one must not name the client.
    expect(gateway).toMatchObject({ isProduction: true, REDIS_URL: 'redis://redis:6379', TRUST_PROXY: false });
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
    expect(readFileSync(join(root, 'deploy/k8s/gatehouse.yaml'), 'utf8')).toContain(
      'create configmap gatehouse-postgres-init --from-file=deploy/postgres/init-gatehouse.sql',
    );
    expect(existsSync(join(root, 'deploy/postgres/init-gatehouse.sql'))).toBe(true);
  });

  it('let only gateway pods reach the subgraphs, and only Gatehouse pods reach Postgres and Redis', () => {
    const [subgraphs, data] = ['subgraphs-from-gateway-only', 'data-from-gatehouse-only'].map((name) =>
      byKind('NetworkPolicy').find((doc) => doc.metadata.name === name),
    );
    expect(subgraphs.spec.podSelector.matchLabels).toEqual({ 'gatehouse/role': 'subgraph' });
    const monitoring = [{ namespaceSelector: { matchLabels: { 'gatehouse/monitoring': 'true' } } }];
    expect(subgraphs.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { 'gatehouse/role': 'gateway' } } }], ports: [{ port: 'http' }] },
      { from: monitoring, ports: [{ port: 'metrics' }] },
    ]);
    const gatewayPolicy = byKind('NetworkPolicy').find((doc) => doc.metadata.name === 'gateway-metrics-from-monitoring-only');
    expect(gatewayPolicy.spec.podSelector.matchLabels).toEqual({ 'gatehouse/role': 'gateway' });
    expect(gatewayPolicy.spec.ingress).toEqual([{ ports: [{ port: 'http' }] }, { from: monitoring, ports: [{ port: 'metrics' }] }]);
    for (const name of NAMES) expect(deployment(name).spec.template.metadata.labels['gatehouse/role']).toBe('subgraph');
    expect(deployment('gateway').spec.template.metadata.labels['gatehouse/role']).toBe('gateway');
    expect(data.spec.podSelector.matchLabels).toEqual({ 'gatehouse/role': 'data' });
    for (const name of ['redis', 'postgres']) expect(deployment(name).spec.template.metadata.labels['gatehouse/role']).toBe('data');
  });
});
