import { loadStackPorts, type StackPorts } from '../../scripts/stackPorts';

const members = [
  { name: 'auth', position: 1, defaultPort: 4001 },
  { name: 'users', position: 2, defaultPort: 4002 },
  { name: 'records', position: 3, defaultPort: 4003 },
  { name: 'complaints', position: 4, defaultPort: 4004 },
];
const layout = (ports: StackPorts) => ({
  gateway: [ports.gateway.port, ports.gateway.metricsPort],
  ...Object.fromEntries(Object.entries(ports.subgraphs).map(([name, service]) => [name, [service.port, service.metricsPort]])),
});

describe('loadStackPorts', () => {
  it('keeps the default ports without PORT_BASE: the gateway on 4000, each subgraph on its own, metrics 5400 above', () => {
    expect(layout(loadStackPorts({}, members))).toEqual({
      gateway: [4000, 9400],
      auth: [4001, 9401],
      users: [4002, 9402],
      records: [4003, 9403],
      complaints: [4004, 9404],
    });
  });

  it('moves every port with PORT_BASE: the gateway to it, subgraphs by their place in supergraph.yaml, metrics with them', () => {
    // A fifth subgraph, as the scaffolder adds it, takes the next port.
    const ports = loadStackPorts({ PORT_BASE: '5000' }, [...members, { name: 'invoices', position: 5, defaultPort: 4005 }]);
    expect(layout(ports)).toEqual({
      gateway: [5000, 10400],
      auth: [5001, 10401],
      users: [5002, 10402],
      records: [5003, 10403],
      complaints: [5004, 10404],
      invoices: [5005, 10405],
    });
    expect(ports.subgraphs.invoices.variables).toEqual({
      port: ['INVOICES_PORT', 'PORT_BASE'],
      metricsPort: ['INVOICES_METRICS_PORT', 'PORT_BASE'],
    });
  });

  it("lets each service's own variables win over PORT_BASE (the gateway also reads PORT and METRICS_PORT)", () => {
    const ports = loadStackPorts(
      { PORT_BASE: '5000', AUTH_PORT: '6001', USERS_METRICS_PORT: '0', PORT: '6000', GATEWAY_METRICS_PORT: '7000' },
      members,
    );
    expect(layout(ports)).toMatchObject({ gateway: [6000, 7000], auth: [6001, 10401], users: [5002, 0], records: [5003, 10403] });
  });

  it('names every bad variable, a PORT_BASE whose metrics ports would not fit, and two services given one port', () => {
    expect(() => loadStackPorts({ PORT_BASE: 'x', RECORDS_PORT: '70000' }, members)).toThrow(
      /Invalid configuration for npm start:\n  - PORT_BASE: .*\n  - RECORDS_PORT: /,
    );
    expect(() => loadStackPorts({ PORT_BASE: '60200' }, members)).toThrow(/PORT_BASE: must be at most 60131/);
    expect(() => loadStackPorts({ PORT_BASE: '5000', RECORDS_PORT: '5001' }, members)).toThrow('  - RECORDS_PORT: 5001 is also AUTH_PORT');
  });
});
