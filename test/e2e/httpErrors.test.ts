import { Writable } from 'node:stream';
import { CONTEXT_HEADER, createContextSigner } from '../../auth';
import { rawPost, writeAllThenRead } from '../helpers/rawHttp';
import { startStack, type Stack } from '../helpers/stack';

/**
 * What no GraphQL route answers — a malformed request, an unknown route, a failure nobody expected — is answered in
 * the same coded shape as every other refusal, and says nothing of the cause.
 */
let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack();
  token = (await stack.loginSession('member@acme.example', 'acme')).accessToken;
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.resetCalls());

const refusal = (code: string, reason: string, message: string) => ({ errors: [{ message, extensions: { code, reason } }] });

describe('a request the gateway cannot read', () => {
  it('answers invalid or empty JSON and another media type with BAD_REQUEST and a reason, and calls no subgraph', async () => {
    const headers = (type: string): Array<[string, string]> => [
      ['content-type', type],
      ['authorization', `Bearer ${token}`],
    ];
    const invalid = await rawPost(stack.gatewayUrl, headers('application/json'), '{"query": ');
    expect({ status: invalid.status, body: invalid.body }).toEqual({
      status: 400,
      body: refusal('BAD_REQUEST', 'invalid_json', 'The body is not valid JSON'),
    });
    const empty = await rawPost(stack.gatewayUrl, headers('application/json'), '');
    expect({ status: empty.status, body: empty.body }).toEqual({
      status: 400,
      body: refusal('BAD_REQUEST', 'empty_body', 'The body is empty'),
    });
    const xml = await rawPost(stack.gatewayUrl, headers('application/xml'), '<query/>');
    expect({ status: xml.status, body: xml.body }).toEqual({
      status: 415,
      body: refusal('BAD_REQUEST', 'unsupported_media_type', 'Send the request as application/json'),
    });
    const large = await rawPost(
      stack.gatewayUrl,
      headers('application/json'),
      JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(300_000)}` }),
    );
    expect({ status: large.status, body: large.body }).toEqual({
      status: 413,
      body: refusal('BAD_REQUEST', 'body_too_large', 'The body is too large'),
    });
    expect(stack.totalCalls()).toBe(0);
  });

  it('answers a client still writing a 9 MB body with its 413, not a broken pipe', async () => {
    const { answer, error } = await writeAllThenRead(new URL(stack.gatewayUrl), 9_000_000);
    expect({ error, status: answer.split('\r\n')[0] }).toEqual({ error: undefined, status: 'HTTP/1.1 413 Payload Too Large' });
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual(
      refusal('BAD_REQUEST', 'body_too_large', 'The body is too large'),
    );
    expect(stack.totalCalls()).toBe(0);
  });

  it('answers an unknown route or method with NOT_FOUND, on the gateway and on a subgraph', async () => {
    for (const [url, method] of [
      [stack.gatewayUrl.replace(/\/graphql$/, '/admin'), 'GET'],
      [stack.gatewayUrl, 'PUT'],
      [stack.subgraphs.users.url.replace(/\/graphql$/, '/debug'), 'GET'],
    ]) {
      const response = await fetch(url, { method });
      expect({ url, status: response.status, body: await response.json() }).toEqual({
        url,
        status: 404,
        body: refusal('NOT_FOUND', 'no_such_route', 'No such route'),
      });
    }
  });
});

describe('a subgraph called with a body that is not JSON', () => {
  const post = (body: string, header?: string) =>
    fetch(stack.subgraphs.users.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(header ? { [CONTEXT_HEADER]: header } : {}) },
      body,
    });

  it('answers BAD_REQUEST once the signature covers that body, and only the context refusal before', async () => {
    const signer = createContextSigner({ masterSecret: stack.contextSecret });
    const context = { user: null, requestId: 'r', clientAddress: '' };
    for (const [body, reason, message] of [
      ['{"query": ', 'invalid_json', 'The body is not valid JSON'],
      ['', 'empty_body', 'The body is empty'],
    ]) {
      const signed = await post(body, signer.sign(context, 'users', body));
      expect({ body, status: signed.status, answer: await signed.json() }).toEqual({
        body,
        status: 400,
        answer: refusal('BAD_REQUEST', reason, message),
      });
      const unsigned = await post(body);
      expect({ body, status: unsigned.status, code: (await unsigned.json()).errors[0].extensions.code }).toEqual({
        body,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
      const otherBody = await post(body, signer.sign(context, 'users', '{"query":"{ __typename }"}'));
      expect({ body, status: otherBody.status, reason: (await otherBody.json()).errors[0].extensions.reason }).toEqual({
        body,
        status: 401,
        reason: 'context_body_mismatch',
      });
    }
  });
});

describe('a failure nobody expected', () => {
  it('answers 500 INTERNAL_SERVER_ERROR with nothing of the cause, logs the cause with the request id, and keeps serving', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { url, gateway } = await stack.addGateway({}, { logger: { level: 'info', stream: sink } });
    // The revocation check throws once: a stand-in for any bug or dependency that throws where nobody expects it.
    jest.spyOn(gateway.revocations, 'check').mockImplementationOnce(() => {
      throw new Error('revocation set at db-internal-7.corp:5432 failed');
    });
    const failed = await stack.gql('{ me { displayName } }', { token, url });

    expect(failed.status).toBe(500);
    expect(failed.headers.get('content-type')).toMatch(/^application\/json/);
    expect(failed.body).toEqual({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(stack.totalCalls()).toBe(0);

    const requestId = failed.headers.get('x-request-id');
    const logged = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'request failed');
    expect(logged).toMatchObject({ level: 50, requestId, err: { message: 'revocation set at db-internal-7.corp:5432 failed' } });
    expect(logged.traceId).toMatch(/^[0-9a-f]{32}$/);

    const after = await stack.gql('{ me { displayName } }', { token, url });
    expect(after.status).toBe(200);
    expect(after.body.data.me.displayName).toEqual(expect.any(String));
  });
});
