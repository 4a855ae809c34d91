import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');

export interface SpawnedService {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** What it printed on stderr alone. */
  errors(): string;
  /** Its exit code once it exits by itself; rejects with its output if it is still running after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number | null>;
  /** The first match of `pattern` in its output, once it appears; rejects if it exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then its exit code (or 'still running' after `timeoutMs`, when it is killed). */
  stop(timeoutMs?: number): Promise<number | null | 'still running'>;
}

/**
 * Runs an entry point in its own process: TypeScript (`scripts/start.ts`, `gateway/main.ts`, …) with tsx, or compiled
 * JavaScript (`dist/gateway/main.js`) with plain node when `node` (the binary) is given.
 */
export function spawnService(entry: string, options: { cwd?: string; env: NodeJS.ProcessEnv; node?: string }): SpawnedService {
  const child = spawn(options.node ?? process.execPath, options.node ? [entry] : [join(root, 'node_modules/tsx/dist/cli.mjs'), entry], {
    cwd: options.cwd ?? root,
    env: options.env,
  });
  let output = '';
  let errors = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => {
    output += chunk;
    errors += chunk;
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  // 'close': exited, and stdout and stderr read to their end.
  const closed = new Promise<number | null>((resolveClose) => child.once('close', (code) => resolveClose(code)));
  return {
    child,
    output: () => output,
    errors: () => errors,
    async exit(timeoutMs = 60_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${entry} still running after ${timeoutMs} ms:\n${output}`)), timeoutMs);
      });
      try {
        return await Promise.race([closed, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${entry} exited (${child.exitCode}):\n${output}`);
        if (Date.now() > deadline) throw new Error(`${entry}: no ${pattern} in time:\n${output}`);
        await new Promise((resolveWait) => setTimeout(resolveWait, 100));
      }
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<'still running'>((r) => (timer = setTimeout(() => r('still running'), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (code === 'still running') {
        child.kill('SIGKILL');
        await exited;
      }
      return code;
    },
  };
}

export const GATEWAY_URL_LINE = /GraphQL gateway\s+(http:\/\/\S+\/graphql)/;
