/**
 * For a benchmark server: with BENCH_PROFILE_FILE set, a CPU profile of the measured load only (not start-up or
 * warm-up): SIGUSR2 starts it, SIGTERM writes it and exits. Without it, SIGTERM just exits.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export function profileOnSignal(profileFile = process.env.BENCH_PROFILE_FILE): void {
  if (!profileFile) {
    process.once('SIGTERM', () => process.exit(0));
    return;
  }
  const session = new Session();
  session.connect();
  const ready = session.post('Profiler.enable').then(() => session.post('Profiler.setSamplingInterval', { interval: 500 }));
  process.on('SIGUSR2', () => void ready.then(() => session.post('Profiler.start')));
  process.once('SIGTERM', async () => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(profileFile, JSON.stringify(profile));
    process.exit(0);
  });
}
