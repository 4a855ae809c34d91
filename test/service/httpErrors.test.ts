import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { answerHttpErrors } from '../../service/httpErrors';

/**
 * An over-limit body still being written: the client receives its 413 `body_too_large`, the rest of its body read and
 * discarded within bounds in bytes and time, never a reset in the middle of its upload.
 */
const BODY_LIMIT = 64 * 1024;
const apps: FastifyInstance[] = [];
async function serve(options: Parameters<typeof answerHttpErrors>[1]) {
  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false });
  answerHttpErrors(app, options);
  app.post('/graphql', async () => ({ data: {} }));
  apps.push(app);
  return new URL(await app.listen({ port: 0, host: '127.0.0.1' }));
}
afterAll(async () => {
  for (const app of apps) await app.close();
});

/**
 * A client that writes its whole request before it reads the answer, as Python's http.client and many others do:
 * resolves with the raw answer once the server ends it, or with the socket error it met. `stallAfter` stops writing
 * after that many body bytes (and waits for the answer).
 */
function writeAllThenRead(url: URL, bytes: number, options: { chunked?: boolean; stallAfter?: number } = {}) {
  return new Promise<{ answer: string; error?: string }>((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    let error: string | undefined;
    let reading = false;
    socket.on('data', (chunk) => {
      if (reading) answer += chunk;
      else socket.pause();
    });
    socket.on('error', (problem: NodeJS.ErrnoException) => (error ??= problem.code ?? problem.message));
    socket.on('close', () => resolve({ answer, error }));
    const head = options.chunked ? 'transfer-encoding: chunked' : `content-length: ${bytes}`;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const frame = (part: Buffer) =>
      options.chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part;
    const startReading = () => {
      reading = true;
      socket.resume();
    };
    socket.on('connect', async () => {
      socket.write(`POST /graphql HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n${head}\r\n\r\n`);
      let sent = 0;
      const limit = options.stallAfter ?? bytes;
      while (sent < limit && !socket.destroyed) {
        const part = chunk.subarray(0, Math.min(chunk.length, limit - sent));
        sent += part.length;
        if (!socket.write(frame(part))) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
      }
      if (options.chunked && options.stallAfter === undefined) socket.write('0\r\n\r\n');
      startReading();
    });
  });
}

const TOO_LARGE = JSON.stringify({
  errors: [{ message: 'The body is too large', extensions: { code: 'BAD_REQUEST', reason: 'body_too_large' } }],
});

describe('a body over the limit, still being written', () => {
  it.each([
    ['2 MB with Content-Length', 2_000_000, false],
    ['9 MB with Content-Length', 9_000_000, false],
    ['2 MB chunked', 2_000_000, true],
    ['9 MB chunked', 9_000_000, true],
  ])('is answered 413 body_too_large, then the connection closes: %s', async (_name, bytes, chunked) => {
    const url = await serve({});
    const { answer, error } = await writeAllThenRead(url, bytes, { chunked });
    expect({ error, status: answer.split('\r\n')[0] }).toEqual({ error: undefined, status: 'HTTP/1.1 413 Payload Too Large' });
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer.endsWith(`\r\n\r\n${TOO_LARGE}`)).toBe(true);
  });

  it('reads no more than its bound in bytes: past it the 413 is sent and the connection closed', async () => {
    const url = await serve({ discardMaxBytes: 1024 * 1024 });
    const { answer, error } = await writeAllThenRead(url, 9_000_000);
    // The server stopped reading at 1 MiB: the client, still writing 8 MB more, meets the closed connection.
    expect(error ?? 'no error').toMatch(/EPIPE|ECONNRESET/);
    expect(answer).toBe('');
  });

  it('waits no longer than its bound in time for a client that stops sending', async () => {
    const url = await serve({ discardMaxMs: 300 });
    const started = Date.now();
    const { answer } = await writeAllThenRead(url, 9_000_000, { stallAfter: 256 * 1024 });
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
