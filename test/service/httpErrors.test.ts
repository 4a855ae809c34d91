import Fastify, { type FastifyInstance } from 'fastify';
import { answerHttpErrors } from '../../service/httpErrors';
import { writeAllThenRead } from '../helpers/rawHttp';

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
  return new URL('/graphql', await app.listen({ port: 0, host: '127.0.0.1' }));
}
afterAll(async () => {
  for (const app of apps) await app.close();
});

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
