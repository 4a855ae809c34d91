import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GraphQLError } from 'graphql';
import { ErrorCode, TOKEN_REJECTION_REASONS, gatehouseError, toPublicError } from '../../auth';

const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
const tokensDoc = readFileSync(resolve(__dirname, '../../docs/tokens.md'), 'utf8');

describe('the error catalogue', () => {
  it.each(Object.values(ErrorCode))('documents %s in the README', (code) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'));
  });

  it.each(TOKEN_REJECTION_REASONS)('documents the token refusal reason %s in docs/tokens.md', (reason) => {
    expect(tokensDoc).toMatch(new RegExp(`^\\| \`${reason}\` \\|`, 'm'));
  });

  it('keeps the message, code and reason of a coded error', () => {
    const { error, masked } = toPublicError(gatehouseError(ErrorCode.FORBIDDEN, 'Not allowed', { reason: 'missing_permission' }));
    expect(masked).toBe(false);
    expect(error).toEqual({ message: 'Not allowed', extensions: { code: 'FORBIDDEN', reason: 'missing_permission' } });
  });

  it('masks an uncoded error and anything an internal error might carry', () => {
    const sqlError = new GraphQLError('relation "records.records" does not exist at 10.0.0.5:5432', {
      extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at Pool.query'], serviceName: 'records' },
    });
    const { error, masked } = toPublicError(sqlError);
    expect(masked).toBe(true);
    expect(error).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('drops extensions outside the public set, such as the subgraph name Apollo Gateway adds', () => {
    const { error } = toPublicError({
      message: 'Not found',
      extensions: { code: 'NOT_FOUND', serviceName: 'users', response: { url: 'http://users:4002' } },
    });
    expect(error.extensions).toEqual({ code: 'NOT_FOUND' });
  });
});
