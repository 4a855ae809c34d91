/**
 * npm run bench: Gatehouse against the direct subgraph, stock Apollo Gateway and its peers (Hive Gateway, mercurius's
 * gateway), for several query shapes, in one run, back to back. Servers run as separate processes pinned to core 0,
 * the load generator (autocannon) to core 1 (taskset, when the machine has two cores). Prints a table and writes the
 * raw figures to bench/results/<time>.json.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { loadRoleTable } from '../auth';
const scopesOf = (roles: string[]) => loadRoleTable('roles.yaml').scopesOf(roles);
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { decodeProtectedHeader as decodeJwtHeader } from 'jose';
import { createContextSigner } from '../auth';
import { DEMO_TENANTS } from '../subgraphs/kit/demoTenants';
import { summariseProfile, type ProfileSummary } from './profile';
import { GATEWAY_PROCESSES, SCENARIOS, gatewayOf, requestOptions, type GatewayProcess, type ScenarioLetter } from './scenarios';
import { QUERIES, type QueryKey } from './shapes';
import { countSqlPerRequest } from './sqlStatements';
import { describeSubscriptions, measureSubscriptions } from './subscriptions';
import { coreCpuOf, median, printRounds, summariseRounds, type Row } from './summariseRounds';

const root = resolve(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
/** Seconds of load on each gateway, per query, once before the first round. */
const INITIAL_WARMUP = Number(process.env.BENCH_INITIAL_WARMUP_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 200_000);
/** The subscription case: this many WebSocket subscribers on one gateway, this many events, revocations. */
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const SUBSCRIPTION_EVENTS = Number(process.env.BENCH_SUBSCRIPTION_EVENTS ?? 20);
/** Distinct tokens among the subscribers (default: one each); subscribers with one token share a lookup. */
const SUBSCRIPTION_TOKENS = Number(process.env.BENCH_SUBSCRIPTION_TOKENS ?? SUBSCRIBERS);
/**
 * Rounds of the whole scenario table; the figures reported are the medians. Many short rounds rather than a few long
 * ones: the host's speed drifts over seconds, so a ratio is steadier the closer in time its two windows are.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 6);
/** For working on one part: BENCH_SCENARIOS=bcd runs (b), (c) and (d) only; BENCH_QUERIES=hop the hop query only. */
const ONLY_SCENARIOS = process.env.BENCH_SCENARIOS ?? Object.keys(SCENARIOS).join('');
const ONLY_QUERIES = (process.env.BENCH_QUERIES ?? Object.keys(QUERIES).join(',')).split(',') as QueryKey[];
/** The shapes (e) runs, each window with a file of new tokens of its own. */
const E_QUERIES = (Object.keys(QUERIES) as QueryKey[]).filter((key) => QUERIES[key].scenarios.includes('e'));
/** Forged requests per second in the unknown-kid flood, each naming a kid never seen before. */
const FLOOD_RATE = Number(process.env.BENCH_FLOOD_RATE ?? 200);
/** The gateways' JWKS_COOLDOWN_MS (their default): at most one fetch for unknown kids per this many ms. */
const COOLDOWN_MS = 30_000;
const pin = availableParallelism() >= 2 && existsSync('/usr/bin/taskset');
const children: ChildProcess[] = [];

/** A Node process running `args` through tsx, pinned to `core` (null: not pinned; see pinNow). */
function node(core: number | null, args: string[], env: NodeJS.ProcessEnv, capture = false): ChildProcess {
  const command = [process.execPath, '--import', 'tsx', ...args];
  const pinned = pin && core !== null;
  const child = spawn(pinned ? 'taskset' : command[0], pinned ? ['-c', String(core), ...command] : command.slice(1), {
    cwd: root,
    env,
    stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
  });
  children.push(child);
  return child;
}

/** Pins a running process, every thread of it, to `cores` (a taskset list: 0, or 0,1). */
function pinNow(pid: number, cores: number | string) {
  if (pin) execFileSync('taskset', ['-a', '-p', '-c', String(cores), String(pid)], { stdio: 'ignore' });
}

async function waitForFile(file: string, child: ChildProcess, seconds = 120): Promise<string> {
  for (let i = 0; i < seconds * 10; i++) {
    if (existsSync(file)) {
      const text = await readFile(file, 'utf8');
      if (text) return text;
    }
    if (child.exitCode !== null) throw new Error(`a server exited (${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${file}`);
}

/** CPU time (ms) a process has used so far, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function load(options: Record<string, unknown>): Promise<{
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  status401: number;
  errors: number;
  tokensSent: number;
  tokensReused: number;
}> {
  const child = node(
    1,
    ['bench/load.ts', JSON.stringify({ seconds: SECONDS, warmupSeconds: WARMUP, connections: CONNECTIONS, headers: {}, ...options })],
    process.env,
    true,
  );
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  await new Promise((r) => child.once('exit', r));
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

function codeVersion(): { commit: string; modified: boolean } | undefined {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    const changed = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)*.md');
    return { commit: git('rev-parse', 'HEAD'), modified: changed !== '' };
  } catch {
    return undefined; // not a git checkout
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function post(url: string, query: string, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function main() {
  const work = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  children.push(redis);
  const secret = randomBytes(32).toString('base64url');
  // With DATABASE_URL, a database of the run's own (dropped at the end); without, the embedded PGlite.
  let databaseUrl: string | undefined;
  let dropDatabase = async () => undefined as void;
  if (process.env.DATABASE_URL) {
    const pg = (await import('pg')).default;
    const name = `gatehouse_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.href;
    dropDatabase = async () => {
      const cleanup = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    };
  }
  const { BENCH_PROFILE_FILE: _ignored, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    DATA_DIR: work,
    BENCH_CONTEXT_SECRET: secret,
    CONTEXT_SIGNING_SECRET: secret,
    AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '10000',
    LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '100000',
    LOG_LEVEL: 'warn',
  };
  console.log('Starting the subgraphs…');
  const subgraphsFile = join(work, 'subgraphs.json');
  // Profiles (when on) go to BENCH_PROFILE_DIR, or a folder of the run's own removed at the end.
  const profileDir = process.env.BENCH_PROFILE_DIR ?? join(work, 'profiles');
  const subgraphsProfile = join(profileDir, 'subgraphs.cpuprofile');
  // Not pinned while it starts, pinned to core 0 once ready (and let onto both cores while it mints tokens).
  const subgraphs = node(null, ['bench/servers/subgraphs.ts', subgraphsFile], {
    ...env,
    NODE_ENV: 'production',
    ...(process.env.BENCH_PROFILE !== '0' ? { BENCH_PROFILE_FILE: subgraphsProfile } : {}),
  });
  const stack = JSON.parse(await waitForFile(subgraphsFile, subgraphs, 300)) as {
    urls: Record<string, string>;
    metricsUrls: Record<string, string>;
    jwksUrl: string;
    mintUrl: string;
  };
  pinNow(subgraphs.pid!, 0);
  const gatewayEnv: NodeJS.ProcessEnv = {
    ...env,
    PORT: '0',
    NODE_ENV: 'production',
    AUTH_JWKS_URL: stack.jwksUrl,
    SUPERGRAPH_PATH: join(root, 'supergraph.graphql'),
    JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
    RATE_LIMIT_PER_USER: '0',
    RATE_LIMIT_PER_TENANT: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    // The subscription case opens SUBSCRIBERS connections of one user from one address.
    SUBSCRIPTIONS_PER_USER: String(Math.max(100, SUBSCRIBERS)),
    SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: String(Math.max(50, SUBSCRIBERS)),
    METRICS_PORT: '0',
    ...Object.fromEntries(Object.entries(stack.urls).map(([name, url]) => [`SUBGRAPH_${name.toUpperCase()}_URL`, url])),
  };
  // The windows of the table: each selected shape, in each selected scenario that runs it.
  const shapeKeys = (Object.keys(QUERIES) as QueryKey[]).filter((key) => ONLY_QUERIES.includes(key));
  const lettersOf = (key: QueryKey) =>
    (Object.keys(SCENARIOS) as ScenarioLetter[]).filter(
      (letter) => QUERIES[key].scenarios.includes(letter) && ONLY_SCENARIOS.includes(letter),
    );
  // Every gateway process the windows need, and always the three Gatehouse instances the later measurements use.
  const needed = new Set<GatewayProcess>(['gatehouse', 'gatehouse-e', 'gatehouse-b']);
  for (const key of shapeKeys)
    for (const letter of lettersOf(key)) {
      const gateway = gatewayOf(letter, QUERIES[key]);
      if (gateway) needed.add(gateway);
    }
  const gateways = {} as Record<GatewayProcess, { url: string; pid: number; metricsUrl?: string }>;
  for (const name of (Object.keys(GATEWAY_PROCESSES) as GatewayProcess[]).filter((name) => needed.has(name))) {
    const [server, mode] = GATEWAY_PROCESSES[name];
    const file = join(work, `${name}.url`);
    const child = node(0, [server, mode, file], gatewayEnv);
    gateways[name] = { url: await waitForFile(file, child), pid: child.pid! };
    if (mode.startsWith('gatehouse')) gateways[name].metricsUrl = await waitForFile(`${file}.metrics`, child);
  }

  const loginAs = async (who: 'member' | 'manager') =>
    (
      await post(
        gateways.gatehouse.url,
        `mutation { login(input: { email: "${who}@acme.example", password: "gatehouse-demo", tenant: "acme" }) { ... on AuthSession { accessToken } } }`,
      )
    ).body.data.login.accessToken as string;
  // The gateway refuses an access token that lives longer than 20 minutes, and a full run lasts longer: the warm tokens
  // are logged in again at the start of every round (each is then verified once, in the window's warm-up), and the
  // new tokens of (e) and of the memory figure are minted when they are needed, with the subgraphs' process let onto
  // both cores meanwhile (nothing is measured then).
  const loginBoth = async () => ({ MEMBER: await loginAs('member'), MANAGER: await loginAs('manager') });
  let tokens = await loginBoth();
  let warmToken = tokens.MEMBER;
  let mintedFiles = 0;
  const mintTokens = async (count: number) => {
    const file = join(work, `minted-${(mintedFiles += 1)}.tokens`);
    pinNow(subgraphs.pid!, '0,1');
    const response = await fetch(stack.mintUrl, { method: 'POST', body: JSON.stringify({ count, file }) });
    pinNow(subgraphs.pid!, 0);
    if (!response.ok) throw new Error(`minting tokens failed: ${await response.text()}`);
    return file;
  };
  // Subscriptions: SUBSCRIBERS on the (d) gateway, events fanned out, then sessions revoked one by one.
  const subscriptionCase = async () =>
    measureSubscriptions({
      gatewayUrl: gateways.gatehouse.url,
      gatewayPid: gateways.gatehouse.pid,
      redisUrl: env.REDIS_URL!,
      tokensFile: await mintTokens(SUBSCRIPTION_TOKENS),
      subscribers: SUBSCRIBERS,
      tokens: SUBSCRIPTION_TOKENS,
      events: SUBSCRIPTION_EVENTS,
      revocations: Math.min(100, SUBSCRIPTION_TOKENS),
      cpuMs,
      rssMb,
    });
  // BENCH_ONLY=subscriptions: that case alone (its own results file).
  if (process.env.BENCH_ONLY === 'subscriptions') {
    const alone = { date: new Date().toISOString(), code: codeVersion(), subscriptions: await subscriptionCase() };
    console.log(describeSubscriptions(alone.subscriptions));
    await mkdir(join(root, 'bench/results'), { recursive: true });
    const out = join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}-subscriptions.json`);
    await writeFile(out, JSON.stringify(alone, null, 2));
    console.log(`Raw results: ${out}`);
    for (const child of children) child.kill('SIGKILL');
    await dropDatabase();
    await rm(work, { recursive: true, force: true });
    return;
  }
  // Every (e) window (and the (e) gateway's initial warm-up) draws from a file of new tokens of its own, sized as the
  // slices of the 200 000 tokens minted up front were before (wider than the gateway's token cache).
  const sliceSize = Math.floor(TOKENS / ((RUNS + 1) * E_QUERIES.length));
  const mintForRound = async () => {
    const files: Partial<Record<QueryKey, string>> = {};
    if (ONLY_SCENARIOS.includes('e'))
      for (const key of E_QUERIES.filter((key) => shapeKeys.includes(key))) files[key] = await mintTokens(sliceSize);
    return files;
  };
  let tokensSent = 0;
  const signer = createContextSigner({ masterSecret: secret, ttlSeconds: 60 });
  const member = DEMO_TENANTS[0].users.member;
  // One window's request: its URL, body, headers or tokens, and the gateway process whose CPU it costs. Made just
  // before the window runs: (a)'s signed context lives 60 s.
  const windowOf = (letter: ScenarioLetter, key: QueryKey, newTokenFiles: Partial<Record<QueryKey, string>>) => {
    const shape = QUERIES[key];
    const body = JSON.stringify({ query: shape.query });
    const gateway = gatewayOf(letter, shape);
    const options = requestOptions(letter, shape, {
      tokens,
      directContext: () =>
        signer.sign(
          {
            user: { id: member.id, tenantId: DEMO_TENANTS[0].id, roles: ['MEMBER'], scopes: scopesOf(['MEMBER']), sessionId: 'bench' },
            requestId: 'bench',
            clientAddress: '',
          },
          'users',
          body,
        ),
      newTokens: () => ({ tokensFile: newTokenFiles[key]! }),
    });
    return {
      label: SCENARIOS[letter],
      url: gateway ? gateways[gateway].url : stack.urls.users,
      pid: gateway ? gateways[gateway].pid : undefined,
      body,
      options: options as { headers?: Record<string, string>; tokensFile?: string },
    };
  };

  // One request of a window's kind, alone. (e) is asked with the warm token (its new tokens are kept for the windows).
  const ask = async (url: string, body: string, headers: Record<string, string>) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: response.status, answer: (await response.json().catch(() => undefined)) as unknown };
  };
  const probeHeaders = (letter: ScenarioLetter, options: { headers?: Record<string, string> }) =>
    letter === 'e' ? { authorization: `Bearer ${tokens.MEMBER}` } : (options.headers ?? {});
  // Every answer is checked once before anything is measured: data as expected, no error but the one refusal.
  for (const key of shapeKeys)
    for (const letter of lettersOf(key)) {
      const { label, url, body, options } = windowOf(letter, key, {});
      const { status, answer } = await ask(url, body, probeHeaders(letter, options));
      const problem = status === 200 ? QUERIES[key].problem(answer) : `status ${status}`;
      if (problem) throw new Error(`${label}, ${QUERIES[key].name}: unexpected answer (${problem})`);
    }

  // Every gateway (and the subgraphs behind it) is warmed once with each shape it will be measured with before the
  // first round, so that round 1 does not measure a cold JIT; each window then has its own short warm-up too.
  if (RUNS > 0) {
    console.log('Warming every gateway…');
    const newTokenFiles = await mintForRound();
    for (const key of shapeKeys)
      for (const letter of lettersOf(key).filter((letter) => letter !== 'a')) {
        // The (e) gateway is warmed with new tokens, as it will be measured: a warm token would leave the checking
        // code cold (not yet compiled) for its first round.
        const { url, body, options } = windowOf(letter, key, newTokenFiles);
        const warm = await load({ url, body, ...options, seconds: INITIAL_WARMUP, warmupSeconds: 0 });
        if (options.tokensFile) tokensSent += warm.tokensSent;
      }
  }

  const rows: Row[] = [];
  const sqlNote = (value: number | undefined) => (value === undefined ? 'n/a' : value.toFixed(1));
  for (let run = 1; run <= RUNS; run++) {
    tokens = await loginBoth();
    const newTokenFiles = await mintForRound();
    for (const key of shapeKeys) {
      const { name } = QUERIES[key];
      // Odd rounds run (a)…(h), even rounds (h)…(a): a drift of the machine during a round does not always favour
      // the same side of a ratio.
      const letters = run % 2 ? lettersOf(key) : lettersOf(key).reverse();
      for (const letter of letters) {
        const { label, url, body, options, pid } = windowOf(letter, key, newTokenFiles);
        const before = { gateway: pid ? cpuMs(pid) : 0, subgraphs: cpuMs(subgraphs.pid!) };
        const result = await load({ url, body, ...options });
        // Warm-up requests are counted at the measured rate: CPU is read around the whole load process.
        const requests = result.requests * (1 + WARMUP / SECONDS);
        const cpu = pid ? (cpuMs(pid) - before.gateway) / requests : undefined;
        const subgraphCpu = (cpuMs(subgraphs.pid!) - before.subgraphs) / requests;
        // Then its SQL statements per request, counted on ten more requests sent one at a time (see sqlStatements.ts).
        const sql = await countSqlPerRequest(stack.metricsUrls, () => ask(url, body, probeHeaders(letter, options)));
        rows.push({
          run,
          query: name,
          scenario: label,
          ...result,
          gatewayCpuMsPerRequest: cpu,
          subgraphsCpuMsPerRequest: subgraphCpu,
          sqlStatementsPerRequest: sql?.total,
          sqlStatementsPerRequestByService: sql?.byService,
        });
        if (options.tokensFile) tokensSent += result.tokensSent;
        console.log(
          `run ${run}  ${name.padEnd(14)} ${label.padEnd(50)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  sql ${sqlNote(sql?.total)}/req${result.non2xx || result.errors ? `  (${result.non2xx} non-2xx, ${result.errors} errors)` : ''}${result.tokensReused ? `  (${result.tokensReused} requests reused a token: raise BENCH_TOKENS)` : ''}`,
        );
      }
    }
  }
  // The warm token of the measurements below.
  warmToken = await loginAs('member');

  // Memory under distinct tokens: the (e) gateway is sent new tokens, once each, until it has seen BENCH_TOKENS.
  const topUpCount = Math.max(0, TOKENS - tokensSent);
  const rssSamples: number[] = [];
  if (topUpCount) {
    const topUpFile = await mintTokens(topUpCount);
    const bodyOne = JSON.stringify({ query: QUERIES.one.query });
    // RSS swings with the garbage collector (a heap on this much memory grows a long way before a full collection):
    // it is read every half second while the tokens pass, not only once at the end.
    const sampler = setInterval(() => rssSamples.push(rssMb(gateways['gatehouse-e'].pid)), 500);
    const topUp = await load({
      url: gateways['gatehouse-e'].url,
      body: bodyOne,
      tokensFile: topUpFile,
      amount: topUpCount,
      warmupSeconds: 0,
    });
    clearInterval(sampler);
    if (topUp.non2xx || topUp.errors) throw new Error('valid tokens were refused while filling the token cache');
  }
  const distinctTokens = tokensSent + topUpCount;
  const gatewayRss = rssMb(gateways['gatehouse-e'].pid);
  rssSamples.push(gatewayRss);
  const gatewayRssRange = { lowest: Math.min(...rssSamples), highest: Math.max(...rssSamples), samples: rssSamples.length };

  // Revocation lag: log out through gateway A, poll gateway B until it refuses the token.
  const lags: number[] = [];
  for (let i = 0; i < 50; i++) {
    const session = await post(
      gateways.gatehouse.url,
      'mutation { login(input: { email: "agent@acme.example", password: "gatehouse-demo", tenant: "acme" }) { ... on AuthSession { accessToken } } }',
    );
    const token = session.body.data.login.accessToken as string;
    await post(gateways['gatehouse-b'].url, '{ me { id } }', token);
    await post(gateways.gatehouse.url, 'mutation { logout }', token);
    const start = performance.now();
    while ((await post(gateways['gatehouse-b'].url, '{ viewer { userId } }', token)).status === 200 && performance.now() - start < 5000);
    lags.push(performance.now() - start);
  }

  const subscriptions = await subscriptionCase();

  // Login refusals must not tell an unknown user from a wrong password or a disabled account, by answer or by time.
  const loginTimes: Record<string, number[]> = { unknownUser: [], wrongPassword: [], disabledAccount: [] };
  const attempts = {
    unknownUser: ['nobody@acme.example', 'gatehouse-demo', 'acme'],
    wrongPassword: ['member@acme.example', 'not-the-password', 'acme'],
    disabledAccount: ['agent@globex.example', 'gatehouse-demo', 'globex'],
  };
  for (let i = 0; i < 30; i++) {
    for (const [kind, [email, password, tenant]] of Object.entries(attempts)) {
      const start = performance.now();
      const refused = await post(
        gateways.gatehouse.url,
        `mutation { login(input: { email: "${email}", password: "${password}", tenant: "${tenant}" }) { __typename } }`,
      );
      if (refused.body.errors?.[0]?.extensions?.reason !== 'invalid_credentials') throw new Error(`unexpected login answer for ${kind}`);
      if (i >= 5) loginTimes[kind].push(performance.now() - start); // the first few warm up
    }
  }
  const loginTiming = Object.fromEntries(
    Object.entries(loginTimes).map(([kind, times]) => [kind, { p50: percentile(times, 50), p90: percentile(times, 90) }]),
  );

  // A flood of forged tokens with unknown kids beside valid traffic (the hop query, a warm token): JWKS fetches by
  // cause, and the valid throughput with the flood against the same valid load without it, alternated RUNS times.
  const metric = async (metricsUrl: string, series: string) =>
    Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm').exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);
  const { SignJWT, decodeJwt, generateKeyPair } = await import('jose');
  const attacker = await generateKeyPair('ES256');
  const { iss, aud } = decodeJwt(warmToken);
  const floodCount = FLOOD_RATE * SECONDS * RUNS; // every forged request names a kid never seen before
  const now = Math.floor(Date.now() / 1000);
  const floodTokens = await Promise.all(
    Array.from({ length: floodCount }, (_, i) =>
      new SignJWT({
        iss,
        aud,
        sub: member.id,
        tenant_id: DEMO_TENANTS[0].id,
        roles: ['MEMBER'],
        sid: 's',
        jti: `j${i}`,
        iat: now,
        exp: now + 600,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: `flood-${i}-${randomBytes(4).toString('hex')}` })
        .sign(attacker.privateKey),
    ),
  );
  const floodFile = join(work, 'flood.tokens');
  await writeFile(floodFile, floodTokens.join('\n'));
  const hopBody = JSON.stringify({ query: QUERIES.hop.query });
  const unknownKidFetches = () => metric(gateways.gatehouse.metricsUrl!, 'gatehouse_jwks_fetches_total{result="ok",reason="unknown_kid"}');
  const validLoad = { url: gateways.gatehouse.url, body: hopBody, headers: { authorization: `Bearer ${warmToken}` }, warmupSeconds: 0 };
  const fetchesBefore = await unknownKidFetches();
  let floodStartedAt = 0;
  let floodEndedAt = 0;
  const flood: Array<{ run: number; validRpsAlone: number; validRpsDuringFlood: number; floodRps: number; floodNon401: number }> = [];
  for (let run = 1; run <= RUNS; run++) {
    const alone = await load(validLoad);
    if (run === 1) floodStartedAt = performance.now();
    const [during, forged] = await Promise.all([
      load(validLoad),
      load({
        url: gateways.gatehouse.url,
        body: hopBody,
        tokensFile: floodFile,
        tokenSlice: { offset: (run - 1) * FLOOD_RATE * SECONDS, count: FLOOD_RATE * SECONDS },
        rate: FLOOD_RATE,
        connections: 10,
        warmupSeconds: 0,
      }),
    ]);
    floodEndedAt = performance.now();
    if (alone.non2xx || during.non2xx) throw new Error('valid traffic was refused during the kid flood');
    flood.push({
      run,
      validRpsAlone: alone.rps,
      validRpsDuringFlood: during.rps,
      floodRps: forged.rps,
      floodNon401: forged.requests - forged.status401,
    });
  }
  const jwksFetches = (await unknownKidFetches()) - fetchesBefore;
  const floodShares = flood.map((round) => round.validRpsDuringFlood / round.validRpsAlone);
  const floodSummary = {
    forgedRequestsPerSecond: FLOOD_RATE,
    seconds: RUNS * SECONDS,
    // From the first forged request to the last (the flood runs in RUNS bursts, between them the valid load alone).
    spanSeconds: (floodEndedAt - floodStartedAt) / 1000,
    cooldownMs: COOLDOWN_MS,
    jwksFetchesForUnknownKids: jwksFetches,
    // At most one fetch per cooldown: over a span s, at most floor(s / cooldown) + 1 of them.
    allowedByCooldown: Math.floor((floodEndedAt - floodStartedAt) / COOLDOWN_MS) + 1,
    validRpsAlone: median(flood.map((round) => round.validRpsAlone)),
    validRpsDuringFlood: median(flood.map((round) => round.validRpsDuringFlood)),
    // Like the scenario ratios: taken within each round (the flood beside the load alone just before it), then the
    // median over the rounds — a ratio of the two medians would mix rounds the machine ran at different speeds.
    validShareDuringFlood: {
      median: median(floodShares),
      lowest: Math.min(...floodShares),
      highest: Math.max(...floodShares),
    },
    forgedAnsweredOtherThan401: flood.reduce((sum, round) => sum + round.floodNon401, 0),
    rounds: flood,
  };

  // What checking one token costs, per signing algorithm, in process on core 0 (nothing else under load now).
  const verifying = node(0, ['bench/verify.ts'], process.env, true);
  let verifyOut = '';
  verifying.stdout!.on('data', (chunk) => (verifyOut += chunk));
  await new Promise((r) => verifying.once('exit', r));
  const tokenVerification = JSON.parse(verifyOut.trim().split('\n').at(-1)!) as Array<{
    alg: string;
    newTokenMicros: number;
    cachedTokenMicros: number;
    cacheHitNanos: number;
    tokenBytes: number;
  }>;

  // Medians per shape and scenario, ratios within rounds, the list page against the one-subgraph query.
  const table = summariseRounds(rows, RUNS, {
    one: QUERIES.one.name,
    directBaselineFor: [QUERIES.one.name, QUERIES.hop.name],
    lists: [QUERIES.list.name, QUERIES.list5.name],
  });
  const { rounds, medians, ratios, listToOneCpu } = table;
  printRounds(table, RUNS);
  // What stands between e/d and its target: core 0 is saturated, so throughput goes as 1 / (core-0 CPU per request),
  // and e/d ≥ 0.85 leaves a new token (1 / 0.85 − 1) × (d)'s CPU per request. Beside it, what a new token cost here
  // ((e) − (d), gateway + subgraphs, within each round) and what one check costs in process (jose, no HTTP).
  const accessTokenAlg = decodeJwtHeader(warmToken).alg!;
  const newTokenBudget = E_QUERIES.map((key) => QUERIES[key])
    .filter(({ name }) => rows.some((row) => row.query === name))
    .map(({ name }) => {
      const d = rounds.map((round) => coreCpuOf(round, name, 'd') * 1000);
      const extra = rounds.map((round, i) => coreCpuOf(round, name, 'e') * 1000 - d[i]);
      return {
        query: name,
        dCoreCpuMicrosPerRequest: median(d),
        allowedByTargetMicros: median(d) * (1 / 0.85 - 1),
        newTokenCostMicros: median(extra),
        checkInProcessMicros: tokenVerification.find((row) => row.alg === accessTokenAlg)?.newTokenMicros,
      };
    })
    .filter((row) => Number.isFinite(row.allowedByTargetMicros) && Number.isFinite(row.newTokenCostMicros));

  // Where the time goes under (d) with the hop: a fresh gateway and the subgraphs, profiled during the measured load.
  let profile: { gateway: ProfileSummary; subgraphs: ProfileSummary } | undefined;
  if (process.env.BENCH_PROFILE !== '0') {
    await mkdir(profileDir, { recursive: true });
    const file = join(work, 'profiled.url');
    const gatewayProfile = join(profileDir, 'gateway.cpuprofile');
    const child = node(0, ['bench/servers/gateway.ts', 'gatehouse', file], { ...gatewayEnv, BENCH_PROFILE_FILE: gatewayProfile });
    const url = await waitForFile(file, child);
    const request = { url, body: hopBody, headers: { authorization: `Bearer ${warmToken}` } };
    await load({ ...request, seconds: WARMUP, warmupSeconds: 0 });
    for (const server of [child, subgraphs]) server.kill('SIGUSR2');
    await load({ ...request, warmupSeconds: 0 });
    await Promise.all([child, subgraphs].map((server) => new Promise((r) => (server.once('exit', r), server.kill('SIGTERM')))));
    profile = { gateway: summariseProfile(gatewayProfile), subgraphs: summariseProfile(subgraphsProfile) };
  }

  const summary = {
    profileOfD: profile,
    // What was measured: the commit, and whether its tracked files other than Markdown had been changed.
    code: codeVersion(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      node: process.version,
      pinned: pin,
      database: databaseUrl ? 'postgres' : 'pglite',
    },
    settings: {
      seconds: SECONDS,
      warmupSeconds: WARMUP,
      connections: CONNECTIONS,
      tokens: TOKENS,
      runs: RUNS,
      scenarios: Object.fromEntries(Object.entries(SCENARIOS).filter(([letter]) => ONLY_SCENARIOS.includes(letter))),
      queries: Object.fromEntries(
        shapeKeys.map((key) => [key, { name: QUERIES[key].name, query: QUERIES[key].query, role: QUERIES[key].role }]),
      ),
    },
    // The gateways measured, as installed.
    gatewayVersions: Object.fromEntries(
      ['@apollo/gateway', '@apollo/server', '@graphql-hive/gateway', '@graphql-hive/gateway-runtime', '@mercuriusjs/gateway'].map(
        (name) => [name, JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version as string],
      ),
    ),
    rows,
    medians,
    ratios,
    listToOneCpu,
    accessTokenAlg,
    // Requests of (e) that found their slice of tokens spent and sent one again (a cache hit): 0 in a sound run.
    eRequestsThatReusedAToken: rows.reduce((sum, row) => sum + row.tokensReused, 0),
    tokenVerification,
    newTokenBudget,
    gatewayRssMbAfterDistinctTokens: gatewayRss,
    gatewayRssMbWhileDistinctTokensPassed: gatewayRssRange,
    distinctTokens,
    loginRefusalMs: loginTiming,
    revocationLagMs: { p50: percentile(lags, 50), p99: percentile(lags, 99), max: Math.max(...lags), samples: lags.length },
    subscriptions,
    kidFlood: floodSummary,
  };
  console.log(
    `Login refusals, median ms: ${Object.entries(loginTiming)
      .map(([kind, t]) => `${kind} ${t.p50.toFixed(1)}`)
      .join(', ')}`,
  );
  console.log(
    `Revocation lag across two gateways: p50 ${summary.revocationLagMs.p50.toFixed(1)} ms, p99 ${summary.revocationLagMs.p99.toFixed(1)} ms`,
  );
  console.log(describeSubscriptions(subscriptions));
  // With BENCH_RUNS=0 (profile and extras only) there is no flood to report.
  if (RUNS > 0)
    console.log(
      `Unknown-kid flood (${FLOOD_RATE} forged req/s, ${floodSummary.seconds} s in ${RUNS} bursts over ${floodSummary.spanSeconds.toFixed(0)} s): ${jwksFetches} JWKS fetch(es) for unknown kids (the ${COOLDOWN_MS / 1000} s cooldown allows ${floodSummary.allowedByCooldown}); valid traffic at ${(floodSummary.validShareDuringFlood.median * 100).toFixed(0)} % of the same load without the flood (median over rounds, ${(floodSummary.validShareDuringFlood.lowest * 100).toFixed(0)}–${(floodSummary.validShareDuringFlood.highest * 100).toFixed(0)} %; ${floodSummary.validRpsDuringFlood.toFixed(0)} against ${floodSummary.validRpsAlone.toFixed(0)} req/s)`,
    );
  console.log(
    `Access tokens here: ${summary.accessTokenAlg}. CPU to check one token (µs, new / cached): ${tokenVerification
      .map((row) => `${row.alg} ${row.newTokenMicros.toFixed(0)} / ${row.cachedTokenMicros.toFixed(1)}`)
      .join(', ')}; the verifier's share of a cached token (lookup and re-checks) ${median(
      tokenVerification.map((row) => row.cacheHitNanos),
    ).toFixed(0)} ns`,
  );
  if (summary.eRequestsThatReusedAToken)
    console.log(
      `Warning: ${summary.eRequestsThatReusedAToken} requests of (e) reused a token (their slice ran out), which flatters (e): raise BENCH_TOKENS`,
    );
  for (const row of newTokenBudget)
    console.log(
      `New token, ${row.query}: e/d ≥ 0.85 allows ${row.allowedByTargetMicros.toFixed(0)} µs of core-0 CPU per request ((d) costs ${row.dCoreCpuMicrosPerRequest.toFixed(0)} µs); a new token cost ${row.newTokenCostMicros.toFixed(0)} µs here (gateway + subgraphs), one ${accessTokenAlg} check ${row.checkInProcessMicros?.toFixed(0) ?? '-'} µs in process`,
    );
  const shares = (summary: ProfileSummary) => summary.map((p) => `${p.where} ${(p.share * 100).toFixed(0)}%`).join(', ');
  if (profile) {
    console.log(`Gateway busy time under (d), hop: ${shares(profile.gateway)}`);
    console.log(`Subgraphs' busy time under (d), hop: ${shares(profile.subgraphs)}`);
  }
  console.log(
    `Gateway RSS after ${distinctTokens} distinct tokens: ${gatewayRss.toFixed(0)} MB (${gatewayRssRange.lowest.toFixed(0)}–${gatewayRssRange.highest.toFixed(0)} MB while the last ${topUpCount} passed)`,
  );
  await mkdir(join(root, 'bench/results'), { recursive: true });
  const out = join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(out, JSON.stringify(summary, null, 2));
  console.log(`Raw results: ${out}`);
  for (const child of children) child.kill('SIGKILL');
  await dropDatabase();
  await rm(work, { recursive: true, force: true });
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGKILL');
  });
