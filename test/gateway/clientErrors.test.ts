import { GraphQLError } from 'graphql';
import { classifyError, isAcceptable } from '../../gateway/clientErrors';

const formatted = (error: GraphQLError) => ({
  message: error.message,
  extensions: { ...error.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' },
});

describe('classifyError', () => {
  it('answers an uncoded error Apollo Server raised with a 4xx as BAD_REQUEST with a reason, in our words', () => {
    const raised = new GraphQLError('provided sha does not match query', { extensions: { http: { status: 400 } } });
    expect(classifyError(formatted(raised), raised)).toEqual({
      kind: 'client',
      error: {
        message: 'The persisted query hash does not match the query',
        extensions: { code: 'BAD_REQUEST', reason: 'persisted_query_hash_mismatch' },
      },
    });
  });

  it('gives any other 4xx without a code of ours BAD_REQUEST and the reason bad_request', () => {
    const raised = new GraphQLError('Something new Apollo Server refuses', { extensions: { http: { status: 422 } } });
    expect(classifyError(formatted(raised), raised)).toEqual({
      kind: 'client',
      error: { message: 'Something new Apollo Server refuses', extensions: { code: 'BAD_REQUEST', reason: 'bad_request' } },
    });
  });

  it('keeps a client code of the closed set raised with a 4xx', () => {
    const raised = new GraphQLError('Syntax Error: Unexpected <EOF>.', {
      extensions: { code: 'GRAPHQL_PARSE_FAILED', http: { status: 400 } },
    });
    expect(classifyError(formatted(raised), raised)).toEqual({
      kind: 'client',
      error: { message: 'Syntax Error: Unexpected <EOF>.', extensions: { code: 'GRAPHQL_PARSE_FAILED' } },
    });
  });

  it('still masks an error without a status or a code of ours, and an INTERNAL_SERVER_ERROR with a 5xx', () => {
    const bug = new GraphQLError('connect ECONNREFUSED 10.0.0.7:5432');
    expect(classifyError(formatted(bug), bug)).toEqual({
      kind: 'masked',
      error: { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    });
    const server = new GraphQLError('boom', { extensions: { http: { status: 503 } } });
    expect(classifyError(formatted(server), server).kind).toBe('masked');
  });

  it('passes a coded error of ours through', () => {
    const refused = new GraphQLError('Not allowed', { extensions: { code: 'FORBIDDEN', reason: 'missing_scope' } });
    expect(classifyError(formatted(refused), refused)).toEqual({
      kind: 'coded',
      error: { message: 'Not allowed', extensions: { code: 'FORBIDDEN', reason: 'missing_scope' } },
    });
  });
});

describe('isAcceptable', () => {
  it('admits JSON answers, and HTML only for a GET where the landing page is served', () => {
    expect(isAcceptable('POST', undefined, false)).toBe(true);
    expect(isAcceptable('POST', 'application/graphql-response+json', false)).toBe(true);
    expect(isAcceptable('POST', 'multipart/mixed;subscriptionSpec="1.0", application/json', false)).toBe(true);
    expect(isAcceptable('POST', 'multipart/mixed;subscriptionSpec="1.0"', false)).toBe(false);
    expect(isAcceptable('POST', 'application/xml', true)).toBe(false);
    expect(isAcceptable('GET', 'text/html', true)).toBe(true);
    expect(isAcceptable('GET', 'text/html', false)).toBe(false);
    expect(isAcceptable('POST', 'text/html', true)).toBe(false);
  });
});
