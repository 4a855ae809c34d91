/**
 * The refresh-token cookie: the only cookie the gateway passes in either direction, and only to and from the auth
 * subgraph. Both sides read its name and format here.
 */
export const REFRESH_COOKIE_NAME = 'gatehouse_refresh';

// A refresh token is base64url segments joined by dots; anything else in the cookie is not passed on.
const REFRESH_COOKIE = new RegExp(`(?:^|;\\s*)${REFRESH_COOKIE_NAME}=([A-Za-z0-9_.-]{1,200})\\s*(?:;|$)`);

/** The refresh token in a `Cookie` header, or undefined when there is none of the expected shape. */
export function readRefreshCookie(cookieHeader: string | undefined): string | undefined {
  if (typeof cookieHeader !== 'string') return undefined;
  return REFRESH_COOKIE.exec(cookieHeader)?.[1];
}

/**
 * The `Set-Cookie` value delivering a refresh token: HttpOnly, Secure, SameSite=Strict, limited to `path`, living
 * `maxAgeSeconds` (0 or more).
 */
export function buildRefreshCookie(refreshToken: string, options: { path: string; maxAgeSeconds: number }): string {
  return `${REFRESH_COOKIE_NAME}=${refreshToken}; Path=${options.path}; Max-Age=${options.maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}
