import { request } from 'node:http';
import { connect } from 'node:net';

/**
 * A POST with raw header lines (fetch merges repeated headers; this does not), for testing what the gateway does
 * with repeated or oversized headers. Resolves with the status, headers and parsed body.
 */
export function rawPost(url: string, headerLines: Array<[string, string]>, body: string) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }>((resolve, reject) => {
    const target = new URL(url);
    // Raw header arrays get no automatic Host or Content-Length: add them as a client would.
    const flat = [['host', target.host], ['content-length', String(Buffer.byteLength(body))], ...headerLines].flat();
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: flat as unknown as Record<string, string>,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A client that writes its whole request before it reads the answer, as Python's http.client and many others do:
 * resolves with the raw answer once the server ends it, or with the socket error it met. `stallAfter` stops writing
 * after that many body bytes (and waits for the answer).
 */
export function writeAllThenRead(url: URL, bytes: number, options: { chunked?: boolean; stallAfter?: number } = {}) {
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
      socket.write(`POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n${head}\r\n\r\n`);
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
