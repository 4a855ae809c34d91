import { request } from 'node:http';

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
