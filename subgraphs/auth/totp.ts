import { generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 codes (otplib): 30-second steps, 6 digits, one step of drift either way. */
export const TOTP_ISSUER = 'Gatehouse';

export function newTotpSecret(): string {
  return generateSecret();
}

export function totpUri(secret: string, label: string): string {
  return generateURI({ issuer: TOTP_ISSUER, label, secret });
}

/**
 * Checks `code` against `secret`. A code whose time step is at or before `lastTimeStep` is refused, so a code
 * accepted once is never accepted again. Returns the matched time step, or null.
 */
export async function checkTotp(secret: string, code: string, lastTimeStep: number | null): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  try {
    const result = await verify({
      secret,
      token: code,
      epochTolerance: 30,
      ...(lastTimeStep !== null ? { afterTimeStep: lastTimeStep } : {}),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  } catch {
    return null;
  }
}
