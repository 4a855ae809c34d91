import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Every process shuts down the same way: on SIGTERM it drains, releases what it holds and exits on its own. */
const root = resolve(__dirname, '../..');

async function startAndStop(entry: string, ready: RegExp) {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-shutdown-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  };
  const child = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), entry], { cwd: root, env });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  try {
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    const deadline = Date.now() + 60_000;
    while (!ready.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${entry} did not start:\n${output}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((resolveWait) => setTimeout(() => resolveWait('still running'), 15_000))]);
    return { code, output };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
}

it('the gateway drains and exits on SIGTERM', async () => {
  const { code, output } = await startAndStop('gateway/main.ts', /gateway ready at/);
  expect(output).toContain('SIGTERM received: draining and shutting down');
  expect({ code, output }).toEqual({ code: 0, output });
}, 90_000);

it('a subgraph started alone drains and exits on SIGTERM', async () => {
  const { code, output } = await startAndStop('subgraphs/users/main.ts', /users subgraph ready at/);
  expect(output).toContain('SIGTERM received: draining and shutting down');
  expect(code).toBe(0);
}, 90_000);
