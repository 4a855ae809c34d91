/**
 * Benchmark load generator, in its own process (pinned to its own core by bench/run.ts): autocannon against one URL.
 * argv[2]: JSON { url, body, headers, tokensFile?, tokenSlice?, seconds, warmupSeconds, connections, rate?, amount? }.
 * Prints one JSON line: { requests, rps, p50, p99, non2xx, status401, errors, tokensSent, tokensReused }.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

interface LoadOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  tokensFile?: string;
  /** Which part of the tokens file this run may use: [offset, offset + count). */
  tokenSlice?: { offset: number; count: number };
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** A fixed rate (requests per second over all connections) instead of as fast as answered. */
  rate?: number;
  /** Exactly this many requests (no warm-up), instead of `seconds` of them. */
  amount?: number;
}

let tokens: string[] = [];
// One position across the warm-up and the measured run: a token is sent once, so "a new token per request" never
// meets the verified-token cache unless the slice runs out (reported as tokensReused).
let next = 0;

function run(options: LoadOptions, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: options.url,
        method: 'POST',
        body: options.body,
        headers: { 'content-type': 'application/json', ...options.headers },
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: seconds }),
        ...(options.rate ? { overallRate: options.rate } : {}),
        ...(tokens.length
          ? {
              requests: [
                {
                  setupRequest: (request: any) => {
                    request.headers = { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` };
                    return request;
                  },
                },
              ],
            }
          : {}),
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

async function main() {
  const options = JSON.parse(process.argv[2]) as LoadOptions;
  const all = options.tokensFile ? readFileSync(options.tokensFile, 'utf8').split('\n').filter(Boolean) : [];
  tokens = options.tokenSlice ? all.slice(options.tokenSlice.offset, options.tokenSlice.offset + options.tokenSlice.count) : all;
  if (options.warmupSeconds > 0 && !options.amount) await run(options, options.warmupSeconds);
  const result = await run(options, options.seconds);
  console.log(
    JSON.stringify({
      requests: result.requests.total,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      status401: result.statusCodeStats?.['401']?.count ?? 0,
      errors: result.errors,
      tokensSent: Math.min(next, tokens.length),
      tokensReused: Math.max(0, next - tokens.length),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
