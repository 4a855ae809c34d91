import { randomUUID } from 'node:crypto';
import { connectWs, subscribeSse, type WsConnection } from '../helpers/liveClients';
import type { Gateway } from '../../gateway/createGateway';
import { captureLogs } from '../helpers/logSink';
import { startStack, type Stack } from '../helpers/stack';
import { demoId } from '../../subgraphs/kit';
import { acme, globex, mintFor, signRaw } from '../helpers/tokens';

/*
 * Subscriptions through two gateway instances on one bus (Redis in CI, REDIS_URL set; in memory otherwise), over the
 * real graphql-ws and graphql-sse clients. Events come from real mutations of the complaints subgraph.
 */
let stack: Stack;
let gatewayB: string;
let hubB: Gateway['subscriptions'];
let revocationsB: Gateway['revocations'];
const open: Array<{ dispose?(): unknown; stop?(): unknown }> = [];

beforeAll(async () => {
  stack = await startStack();
  const added = await stack.addGateway();
  gatewayB = added.url;
  hubB = added.gateway.subscriptions;
  revocationsB = added.gateway.revocations;
});
afterAll(async () => {
  for (const client of open) await client.dispose?.();
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mint = (user: { id: string; role: string }, tenantId: string, extra: Parameters<typeof mintFor>[3] = {}) =>
  mintFor(stack, user, tenantId, extra);
const ws = (url: string, token: string | undefined): WsConnection => {
  const connection = connectWs(url, token === undefined ? {} : { authorization: `Bearer ${token}` });
  open.push(connection);
  return connection;
};

const FEED = /* GraphQL */ `
  subscription Feed {
    complaintUpdated {
      id
      subject
      status
      internalNotes
      filedBy {
        displayName
      }
    }
  }
`;

async function fileComplaint(token: string, subject = `Broken ${randomUUID().slice(0, 8)}`, relatedRecordId?: string): Promise<string> {
  const result = await stack.gql('mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { id } }', {
    token,
    variables: { input: { subject, description: 'It does not work', ...(relatedRecordId ? { relatedRecordId } : {}) } },
  });
  expect(result.body.errors).toBeUndefined();
  return result.body.data.fileComplaint.id;
}

/** Waits until `hubs` hold `counts` more subscriptions than they did when called (a subscription is registered a moment after the client sends it). */
function expectSubscriptions(...hubs: Array<Gateway['subscriptions']>) {
  const before = hubs.map((hub) => hub.size.subscriptions);
  // Bounded but generous: a busy machine registers late, never wrongly.
  return async (...counts: number[]) => {
    const check = () => hubs.every((hub, i) => hub.size.subscriptions === before[i] + counts[i]);
    for (const deadline = Date.now() + 30_000; !check() && Date.now() < deadline;) await sleep(20);
    expect(hubs.map((hub) => hub.size.subscriptions)).toEqual(before.map((count, i) => count + counts[i]));
  };
}

describe('complaintUpdated over WebSocket and SSE, on two gateways', () => {
  it('delivers a filed complaint to the filer on gateway A and to staff on gateway B, with cross-subgraph fields and field rules', async () => {
    const registered = expectSubscriptions(stack.gateway.subscriptions, hubB);
    const memberToken = await mint(acme.users.member, acme.id);
    const agentToken = await mint(acme.users.agent, acme.id);
    // Fields of three subgraphs: complaints, users (filedBy) and records (relatedRecord).
    const feed = FEED.replace('filedBy {', 'relatedRecord { title } filedBy {');
    const member = ws(stack.gatewayUrl, memberToken).subscribe(feed);
    const agent = subscribeSse(gatewayB, agentToken, feed);
    open.push(agent);
    await registered(1, 1);

    const record = demoId(acme, 1, 1); // the member's own
    const recordTitle = (await stack.gql(`{ record(id: "${record}") { title } }`, { token: memberToken })).body.data.record.title;
    const id = await fileComplaint(memberToken, 'Printer on fire', record);
    const [forMember, forAgent] = await Promise.all([member.next(), agent.next()]);

    expect(forMember.data.complaintUpdated).toEqual({
      id,
      subject: 'Printer on fire',
      status: 'OPEN',
      internalNotes: null,
      relatedRecord: { title: recordTitle },
      filedBy: { displayName: 'Acme Member' },
    });
    // The member may not read internal notes: null with FORBIDDEN at its path, as in a query.
    expect(forMember.errors).toEqual([
      expect.objectContaining({ path: ['complaintUpdated', 'internalNotes'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) }),
    ]);
    expect(forMember.extensions.event).toEqual({ change: 'FILED', at: expect.any(String) });
    expect(forAgent.data.complaintUpdated).toMatchObject({
      id,
      status: 'OPEN',
      relatedRecord: { title: recordTitle },
      filedBy: { displayName: 'Acme Member' },
    });
    expect(forAgent.errors).toBeUndefined();
    member.stop();
    agent.stop();
    await registered(0, 0);
  });

  it('keeps tenants and members apart: another tenant and another member hear nothing, and no lookup is made for them', async () => {
    const registered = expectSubscriptions(stack.gateway.subscriptions, hubB);
    const otherMember = { id: randomUUID(), role: 'MEMBER' };
    const filer = ws(stack.gatewayUrl, await mint(acme.users.member, acme.id)).subscribe(FEED);
    const outsider = ws(gatewayB, await mint(otherMember, acme.id)).subscribe(FEED);
    const globexAgent = subscribeSse(gatewayB, await mint(globex.users.agent, globex.id), FEED);
    open.push(globexAgent);
    await registered(1, 2);
    stack.resetCalls();

    await fileComplaint(await mint(acme.users.member, acme.id));
    expect((await filer.next()).data.complaintUpdated.filedBy).toEqual({ displayName: 'Acme Member' });
    await sleep(300);
    expect(outsider.results).toEqual([]);
    expect(globexAgent.results).toEqual([]);
    // The mutation, and one lookup: the filer's.
    expect(stack.subgraphs.complaints.calls).toHaveLength(2);
    filer.stop();
    outsider.stop();
    globexAgent.stop();
    await registered(0, 0);
  });

  it('follows one complaint over SSE: status changes and comments, not other complaints', async () => {
    const registered = expectSubscriptions(hubB);
    const memberToken = await mint(acme.users.member, acme.id);
    const agentToken = await mint(acme.users.agent, acme.id);
    const managerToken = await mint(acme.users.manager, acme.id);
    const id = await fileComplaint(memberToken);
    const other = await fileComplaint(memberToken);
    const watch = subscribeSse(
      gatewayB,
      agentToken,
      'subscription($id: ID) { complaintUpdated(id: $id) { id status comments { body author { displayName } } } }',
      { id },
    );
    open.push(watch);
    await registered(1);

    await stack.gql(`mutation { updateComplaintStatus(id: "${other}", status: IN_PROGRESS) { id } }`, { token: agentToken });
    await stack.gql(`mutation { updateComplaintStatus(id: "${id}", status: IN_PROGRESS) { id } }`, { token: agentToken });
    const changed = await watch.next();
    expect(changed.data.complaintUpdated).toMatchObject({ id, status: 'IN_PROGRESS' });
    expect(changed.extensions.event.change).toBe('STATUS_CHANGED');

    await stack.gql(`mutation { addComplaintComment(id: "${id}", body: "On it") { id } }`, { token: agentToken });
    const commented = await watch.next();
    expect(commented.extensions.event.change).toBe('COMMENTED');
    expect(commented.data.complaintUpdated.comments).toEqual([{ body: 'On it', author: { displayName: 'Acme Agent' } }]);

    await stack.gql(`mutation { assignComplaint(id: "${id}", assigneeId: "${acme.users.agent.id}") { id } }`, { token: managerToken });
    expect((await watch.next()).extensions.event.change).toBe('ASSIGNED');
    expect(watch.results.every((result) => result.data.complaintUpdated.id === id)).toBe(true);
    watch.stop();
    await registered(0);
  });
});

describe('events', () => {
  it('a mutation retried with the same Idempotency-Key announces its change once', async () => {
    const registered = expectSubscriptions(stack.gateway.subscriptions);
    const memberToken = await mint(acme.users.member, acme.id);
    const live = ws(stack.gatewayUrl, memberToken).subscribe(FEED);
    await registered(1);
    const file = () =>
      stack.gql('mutation { fileComplaint(input: { subject: "Twice?", description: "Sent twice" }) { id } }', {
        token: memberToken,
        headers: { 'idempotency-key': idempotencyKey },
      });
    const idempotencyKey = randomUUID();
    const [first, again] = [await file(), await file()];
    expect(again.body.data.fileComplaint.id).toBe(first.body.data.fileComplaint.id);
    expect((await live.next()).data.complaintUpdated.id).toBe(first.body.data.fileComplaint.id);
    await sleep(300);
    expect(live.results).toHaveLength(1);
    live.stop();
    await registered(0);
  });
});

describe('a stream client that goes away', () => {
  it('is not a fault: its stream ends with a debug line, no warning and no stack', async () => {
    const { stream: sink, lines } = captureLogs();
    const logged = await stack.addGateway({}, { logger: { level: 'debug', stream: sink } });
    const registered = expectSubscriptions(logged.gateway.subscriptions);
    const agentToken = await mint(acme.users.agent, acme.id);
    const memberToken = await mint(acme.users.member, acme.id);
    const controller = new AbortController();
    const response = await fetch(logged.url.replace(/\/graphql$/, '/graphql/stream'), {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${agentToken}` },
      body: JSON.stringify({ query: FEED }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    await registered(1);
    controller.abort();
    // An event for the stream whose client is gone: the gateway writes to a closed connection.
    await fileComplaint(memberToken);
    await registered(0);
    await sleep(200);
    expect(lines.filter((line) => (line.level as number) >= 40).map((line) => line.msg)).toEqual([]);
    expect(lines.filter((line) => 'err' in line || 'stack' in line).map((line) => line.msg)).toEqual([]);
    expect(lines.filter((line) => line.msg === 'event stream ended: the client went away')).toEqual([
      expect.objectContaining({ level: 20 }),
    ]);
  });
});

describe('access ends, the stream ends', () => {
  it("logout on gateway A closes the same user's WebSocket and SSE subscriptions on gateway B within 100 ms of the revocation reaching B", async () => {
    const registered = expectSubscriptions(hubB);
    const session = await stack.loginSession('member@acme.example', 'acme');
    const socket = ws(gatewayB, session.accessToken);
    const overWs = socket.subscribe(FEED);
    const overSse = subscribeSse(gatewayB, session.accessToken, FEED);
    open.push(overSse);
    await registered(2);
    let reachedB = 0;
    const stopListening = revocationsB.onRevoked(() => (reachedB ||= performance.now()));

    const logout = await stack.gql('mutation { logout }', { token: session.accessToken });
    expect(logout.body.data.logout).toBe(true);
    await Promise.all([overWs.ended, overSse.ended]);
    const closed = await socket.closed;
    stopListening();

    // Each subscription ended (its coded error, then complete) within 100 ms of the revocation reaching gateway B.
    expect(overWs.endedAt! - reachedB).toBeLessThan(100);
    expect(overSse.endedAt! - reachedB).toBeLessThan(100);
    expect(closed).toMatchObject({ code: 4401, reason: 'token_revoked' });
    for (const live of [overWs, overSse]) {
      expect(live.results.at(-1).errors).toEqual([
        expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED', reason: 'token_revoked' } }),
      ]);
    }
    await registered(0);
  });

  it("a demotion by an admin closes the demoted user's subscriptions on both gateways, with token_revoked", async () => {
    const registered = expectSubscriptions(stack.gateway.subscriptions, hubB);
    const agent = await stack.loginSession('agent@acme.example', 'acme');
    const onA = ws(stack.gatewayUrl, agent.accessToken).subscribe(FEED);
    const onB = subscribeSse(gatewayB, agent.accessToken, FEED);
    open.push(onB);
    await registered(1, 1);
    const admin = await mint(acme.users.admin, acme.id, { amr: ['pwd', 'otp'] });
    const demoted = await stack.gql(`mutation { setUserRoles(userId: "${acme.users.agent.id}", roles: [MEMBER]) { id } }`, {
      token: admin,
    });
    expect(demoted.body.errors).toBeUndefined();
    await Promise.all([onA.ended, onB.ended]);
    for (const live of [onA, onB])
      expect(live.results.at(-1).errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token_revoked' });
    await registered(0, 0);
    // The agent's role back, for the tests after this one.
    await stack.gql(`mutation { setUserRoles(userId: "${acme.users.agent.id}", roles: [AGENT]) { id } }`, { token: admin });
  });

  it('closes a subscription when its token expires, with token_expired', async () => {
    // Issued 898 s ago with the 900 s lifetime: it expires in about 2 s.
    const token = await mint(acme.users.agent, acme.id, { now: Date.now() - 898_000 });
    const socket = ws(stack.gatewayUrl, token);
    const live = socket.subscribe(FEED);
    const sse = subscribeSse(stack.gatewayUrl, token, FEED);
    open.push(sse);
    const closed = await socket.closed;
    await sse.ended;
    expect(closed).toMatchObject({ code: 4401, reason: 'token_expired' });
    for (const ended of [live, sse]) {
      expect(ended.results.at(-1).errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'token_expired' });
    }
  });

  it('re-authenticates a connection with a ping before expiry: its subscriptions outlive the first token', async () => {
    const registered = expectSubscriptions(stack.gateway.subscriptions);
    const first = await mint(acme.users.agent, acme.id, { now: Date.now() - 898_000 });
    const socket = ws(stack.gatewayUrl, first);
    const live = socket.subscribe(FEED);
    await registered(1);
    const pong = await socket.ping({ authorization: `Bearer ${await mint(acme.users.agent, acme.id)}` });
    expect(pong).toEqual({ reauthenticated: true, expiresAt: expect.any(Number) });
    await sleep(2500);
    const id = await fileComplaint(await mint(acme.users.member, acme.id));
    expect((await live.next()).data.complaintUpdated.id).toBe(id);

    // Another user's token cannot take the connection over.
    const refused = socket.ping({ authorization: `Bearer ${await mint(acme.users.member, acme.id)}` });
    expect(await socket.closed).toMatchObject({ code: 4403, reason: 'reauthentication_mismatch' });
    void refused;
  });

  it('refuses an anonymous or forged connection_init before any subscription starts', async () => {
    const before = stack.gateway.subscriptions.size;
    stack.resetCalls();
    const anonymous = ws(stack.gatewayUrl, undefined);
    const anonymousLive = anonymous.subscribe(FEED);
    const forgedToken = await signRaw({ kid: 'forged' }, { sub: acme.users.admin.id, iss: stack.issuer, aud: stack.audience });
    const forged = ws(stack.gatewayUrl, forgedToken);
    const forgedLive = forged.subscribe(FEED);
    expect(await anonymous.closed).toMatchObject({ code: 4401, reason: 'login_required' });
    expect(await forged.closed).toMatchObject({ code: 4401, reason: expect.stringMatching(/^token_/) });
    await fileComplaint(await mint(acme.users.member, acme.id));
    await sleep(200);
    expect(anonymousLive.results).toEqual([]);
    expect(forgedLive.results).toEqual([]);
    expect(stack.gateway.subscriptions.size).toEqual(before);
    // The mutation only: no lookup ran for anyone.
    expect(stack.subgraphs.complaints.calls).toHaveLength(1);

    const sse = await fetch(`${stack.gatewayUrl}/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ query: FEED }),
    });
    expect(sse.status).toBe(401);
    expect((await sse.json()).errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'login_required' });
  });
});

describe('limits and shutdown', () => {
  let limited: { gateway: Gateway; url: string };
  beforeAll(async () => {
    limited = await stack.addGateway({
      SUBSCRIPTIONS_PER_CONNECTION: '1',
      SUBSCRIPTIONS_PER_USER: '2',
      SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: '3',
      SUBSCRIPTION_MAX_MESSAGE_BYTES: '2048',
      SUBSCRIPTION_INIT_TIMEOUT_MS: '300',
      SUBSCRIPTION_PING_INTERVAL_MS: '1000',
    });
  });

  it('refuses past each limit with a coded error, and serves only subscriptions', async () => {
    const registered = expectSubscriptions(limited.gateway.subscriptions);
    const token = await mint(acme.users.agent, acme.id);
    const first = ws(limited.url, token);
    const kept = first.subscribe(FEED);
    const second = first.subscribe(FEED);
    await second.ended;
    expect(second.error).toEqual([
      expect.objectContaining({ extensions: { code: 'RATE_LIMITED', reason: 'subscriptions_per_connection' } }),
    ]);

    const query = first.subscribe('{ complaints { nodes { id } } }');
    await query.ended;
    expect(query.error).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', reason: 'not_a_subscription' } })]);

    const anotherConnection = ws(limited.url, token);
    const another = anotherConnection.subscribe(FEED);
    await registered(2);
    const third = ws(limited.url, token).subscribe(FEED);
    await third.ended;
    expect(third.error).toEqual([expect.objectContaining({ extensions: { code: 'RATE_LIMITED', reason: 'subscriptions_per_user' } })]);

    // Three connections from this address are open: a fourth is refused at the upgrade, with a coded body.
    const WebSocket = (await import('ws')).default;
    const refused = await new Promise<{ status: number; body: string }>((resolve) => {
      const socket = new WebSocket(limited.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      socket.on('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
    });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).errors[0].extensions).toEqual({ code: 'RATE_LIMITED', reason: 'connections_per_address' });
    expect(kept.completed).toBe(false);
    expect(another.completed).toBe(false);
    await Promise.all(open.splice(0).map((client) => client.dispose?.() ?? client.stop?.()));
    for (let i = 0; i < 100 && limited.gateway.subscriptions.size.connections > 0; i += 1) await sleep(20);
  });

  it('cuts a message over the size limit and a connection that never initialises', async () => {
    const big = ws(limited.url, await mint(acme.users.agent, acme.id));
    await big.acked;
    big.subscribe(`subscription { complaintUpdated { id } } # ${'x'.repeat(4096)}`);
    expect((await big.closed).code).toBe(1009);

    const WebSocket = (await import('ws')).default;
    const silent = new WebSocket(limited.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const code = await new Promise<number>((resolve) => silent.on('close', (closeCode) => resolve(closeCode)));
    expect(code).toBe(4408);
  });

  it('cuts a connection that stops answering pings', async () => {
    const WebSocket = (await import('ws')).default;
    const socket = new WebSocket(limited.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { autoPong: false });
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(String(data)));
    socket.on('open', async () =>
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${await mint(acme.users.agent, acme.id)}` } }),
      ),
    );
    const started = performance.now();
    const code = await new Promise<number>((resolve) => socket.on('close', (closeCode) => resolve(closeCode)));
    expect(messages.map((message) => JSON.parse(message).type)).toEqual(['connection_ack']);
    expect(code).toBe(1006); // terminated, without a closing handshake
    expect(performance.now() - started).toBeGreaterThan(1500); // a ping, then one interval without a pong
  });

  it('refuses SSE requests it does not serve, with coded errors', async () => {
    const token = await mint(acme.users.agent, acme.id);
    const post = (url: string, headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
        body: JSON.stringify({ query: FEED }),
      });
    const notStream = await post(`${limited.url}/stream`, { accept: 'application/json' });
    expect(notStream.status).toBe(406);
    expect((await notStream.json()).errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'accept_event_stream' });
    const reserved = await post(`${limited.url}/stream?token=abc`, { accept: 'text/event-stream' });
    expect(reserved.status).toBe(400);
    expect((await reserved.json()).errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'single_connection_mode' });
    const query = await fetch(`${limited.url}/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      body: JSON.stringify({ query: '{ complaints { nodes { id } } }' }),
    });
    expect(query.status).toBe(400);
    expect((await query.json()).errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'not_a_subscription' });
    expect(limited.gateway.subscriptions.size.subscriptions).toBe(0);
  });

  it('on shutdown tells WebSocket clients to reconnect (1012) and ends SSE streams with SERVICE_UNAVAILABLE', async () => {
    const draining = await stack.addGateway();
    const registered = expectSubscriptions(draining.gateway.subscriptions);
    const token = await mint(acme.users.agent, acme.id);
    const socket = ws(draining.url, token);
    socket.subscribe(FEED);
    const sse = subscribeSse(draining.url, token, FEED);
    open.push(sse);
    await registered(2);
    await draining.gateway.close();
    expect(await socket.closed).toMatchObject({ code: 1012, reason: 'server_draining' });
    await sse.ended;
    expect(sse.results.at(-1).errors[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'server_draining' });
  });
});
