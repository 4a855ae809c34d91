/**
 * Polls `check` until it holds (sync or async), or throws after `timeoutMs` saying what was still pending (`what`,
 * when given). Bounded but generous by default: a busy machine is slow, never wrong.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 20,
  what?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still pending after ${timeoutMs} ms: ${what ?? 'condition not met'}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
