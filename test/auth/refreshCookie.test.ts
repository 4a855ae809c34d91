import { REFRESH_COOKIE_NAME, buildRefreshCookie, readRefreshCookie } from '../../auth';
import { randomBytes } from 'node:crypto';

const token = () => `${randomBytes(8).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

describe('the refresh cookie', () => {
  it('reads back what it delivers, among other cookies', () => {
    const refresh = token();
    const setCookie = buildRefreshCookie(refresh, { path: '/graphql', maxAgeSeconds: 600 });
    expect(setCookie).toBe(`${REFRESH_COOKIE_NAME}=${refresh}; Path=/graphql; Max-Age=600; HttpOnly; Secure; SameSite=Strict`);
    const sent = setCookie.split(';')[0];
    expect(readRefreshCookie(sent)).toBe(refresh);
    expect(readRefreshCookie(`theme=dark; ${sent}; lang=en`)).toBe(refresh);
  });

  it('takes nothing of another shape, another name or no header', () => {
    expect(readRefreshCookie(undefined)).toBeUndefined();
    expect(readRefreshCookie('theme=dark')).toBeUndefined();
    expect(readRefreshCookie(`x${REFRESH_COOKIE_NAME}=${token()}`)).toBeUndefined();
    expect(readRefreshCookie(`${REFRESH_COOKIE_NAME}=abc"def`)).toBeUndefined();
    expect(readRefreshCookie(`${REFRESH_COOKIE_NAME}=${'a'.repeat(201)}`)).toBeUndefined();
    expect(readRefreshCookie(`${REFRESH_COOKIE_NAME}=`)).toBeUndefined();
  });
});
