import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirInUseError } from '../../service/startupError';
import { lockDataDir } from '../../subgraphs/kit/lockDataDir';

let root: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-lock-'));
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

/** A live process that is not this one, and its pid. */
async function otherProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  return child;
}

describe('lockDataDir', () => {
  it('refuses a directory a live process holds, naming its pid, and leaves the lock to it', async () => {
    const dir = join(root, 'held', 'pglite');
    const holder = await otherProcess();
    await lockDataDir(dir).then((lock) => lock.release());
    await writeFile(`${dir}.lock`, String(holder.pid));
    await expect(lockDataDir(dir)).rejects.toEqual(new DataDirInUseError(dir, holder.pid!));
    await expect(lockDataDir(dir)).rejects.toMatchObject({ dir, pid: holder.pid });
    expect(await readFile(`${dir}.lock`, 'utf8')).toBe(String(holder.pid));
  });

  it('takes over the lock of a process that is gone, and release removes it', async () => {
    const dir = join(root, 'stale', 'pglite');
    const gone = await otherProcess();
    const exited = new Promise((resolve) => gone.once('exit', resolve));
    gone.kill('SIGKILL');
    await exited;
    await lockDataDir(dir).then((lock) => lock.release());
    await writeFile(`${dir}.lock`, String(gone.pid));
    const lock = await lockDataDir(dir);
    expect(await readFile(`${dir}.lock`, 'utf8')).toBe(String(process.pid));
    await lock.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it('removes the lock when the process exits without releasing it (a failed start exits at once)', async () => {
    const dir = join(root, 'exit', 'pglite');
    const lockFile = JSON.stringify(`${dir}.lock`);
    const program = `require('./subgraphs/kit/lockDataDir').lockDataDir(${JSON.stringify(dir)}).then(() => {
      console.log(require('node:fs').readFileSync(${lockFile}, 'utf8') === String(process.pid) ? 'held' : 'not held');
      process.exit(1);
    })`;
    const child = spawn(process.execPath, [join(__dirname, '../../node_modules/tsx/dist/cli.mjs'), '-e', program], {
      cwd: join(__dirname, '../..'),
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect({ code, output: output.trim() }).toEqual({ code: 1, output: 'held' });
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });
});
