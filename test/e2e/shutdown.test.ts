import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnService } from '../helpers/spawnService';

/** Every process shuts down the same way: on SIGTERM it drains, releases what it holds and exits on its own. */
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
  const service = spawnService(entry, { env });
  try {
    await service.waitFor(ready);
    const code = await service.stop();
    return { code, output: service.output() };
  } finally {
    await service.stop();
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
