import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataDirInUseError } from '../../service/startupError';

/**
 * Claims the embedded Postgres directory `dir` for this process, through `<dir>.lock` holding its pid. PGlite takes
 * no lock of its own: a second process would open the same files beside the first and corrupt them. A lock whose
 * process is gone (killed) is taken over. Throws DataDirInUseError when a live process holds it. `release` (also
 * done when the process exits) removes the file.
 */
export async function lockDataDir(dir: string): Promise<{ release(): Promise<void> }> {
  const file = `${dir}.lock`;
  await mkdir(dirname(file), { recursive: true });
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) throw new DataDirInUseError(dir, holder);
    await unlink(file).catch(() => undefined);
  }
  // A start-up failure exits without closing anything: the file must not outlive the process there either.
  const releaseOnExit = () => {
    if (ownsLock(file)) unlinkSync(file);
  };
  process.once('exit', releaseOnExit);
  return {
    async release() {
      process.removeListener('exit', releaseOnExit);
      if (ownsLock(file)) await unlink(file).catch(() => undefined);
    },
  };
}

function ownsLock(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').trim() === String(process.pid);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
