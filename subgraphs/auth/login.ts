import { badUserInput, unauthenticated, type SecretBox } from '../../auth';
import type { Database } from '../kit';
import { insertAudit, type AuditEntry } from './data/audit';
import * as factors from './data/factors';
import { findCredentialByEmail, findRoles, findTenantIdBySlug } from './data/identities';
import { parseOpaqueToken, newOpaqueToken } from './opaqueTokens';
import type { SessionService, SessionTokens } from './sessions';
import type { Throttle } from './throttle';
import { checkTotp } from './totp';

export type RefreshDelivery = 'BODY' | 'COOKIE';

export type LoginOutcome =
  { kind: 'session'; tokens: SessionTokens; delivery: RefreshDelivery } | { kind: 'challenge'; challengeId: string; methods: string[] };

export interface LoginServiceOptions {
  db: Database;
  sessions: SessionService;
  passwords: { check(hash: string | undefined, password: string): Promise<boolean> };
  throttle: Throttle;
  secretBox: SecretBox;
  challengeTtlSeconds: number;
  /** Wrong codes a challenge survives; the next one destroys it. Default 5. */
  maxCodeAttempts?: number;
  now?: () => number;
}

const INVALID_CREDENTIALS = () => unauthenticated('invalid_credentials', 'Invalid email, password or tenant');
const INVALID_CHALLENGE = () => unauthenticated('challenge_invalid', 'The sign-in challenge has expired or is not valid; sign in again');

/**
 * Password login and the second step. Unknown tenants, unknown users, wrong passwords and disabled accounts all
 * cost one argon2 verification and answer the same error. Enrolled users get a challenge, answered with a TOTP code.
 */
export function createLoginService(options: LoginServiceOptions) {
  const { db, sessions, throttle } = options;
  const now = options.now ?? Date.now;
  const maxCodeAttempts = options.maxCodeAttempts ?? 5;

  const audit = (entry: AuditEntry) => (entry.tenantId ? db.withTenant(entry.tenantId, (tx) => insertAudit(tx, entry)) : Promise.resolve());

  return {
    async login(
      input: { email: string; password: string; tenant: string; delivery: RefreshDelivery },
      clientAddress: string,
    ): Promise<LoginOutcome> {
      const email = input.email.trim().toLowerCase();
      const slug = input.tenant.trim().toLowerCase();
      if (email.length > 254 || input.password.length > 1024 || slug.length > 64) throw badUserInput('Login input is too long');
      await throttle.attempt('login', { account: `${slug}:${email}`, address: clientAddress });

      const tenantId = await db.withoutTenant((tx) => findTenantIdBySlug(tx, slug));
      const credential = tenantId ? await db.withTenant(tenantId, (tx) => findCredentialByEmail(tx, tenantId, email)) : null;
      // Always one password verification, so unknown tenants and users cost what a wrong password costs.
      const passwordOk = await options.passwords.check(credential?.password_hash, input.password);
      if (!tenantId || !credential || !passwordOk || credential.disabled_at) {
        const reason = !credential ? 'unknown_user' : credential.disabled_at ? 'account_disabled' : 'wrong_password';
        await audit({ tenantId, userId: credential?.user_id, clientAddress, event: 'LOGIN_FAILED', outcome: 'FAILURE', reason });
        throw INVALID_CREDENTIALS();
      }
      await throttle.succeeded('login', `${slug}:${email}`);
      const base = { tenantId, userId: credential.user_id, clientAddress };

      return db.withTenant(tenantId, async (tx) => {
        const factor = await factors.findFactor(tx, tenantId, credential.user_id);
        if (factor?.confirmed_at) {
          const challenge = newOpaqueToken(tenantId);
          await factors.insertChallenge(tx, {
            idHash: challenge.hash,
            tenantId,
            userId: credential.user_id,
            delivery: input.delivery,
            expiresAt: new Date(now() + options.challengeTtlSeconds * 1000),
          });
          await insertAudit(tx, { ...base, event: 'CHALLENGE_ISSUED', outcome: 'SUCCESS' });
          return { kind: 'challenge', challengeId: challenge.token, methods: ['totp'] };
        }
        const tokens = await sessions.open(tx, { tenantId, userId: credential.user_id, roles: credential.roles }, ['pwd'], new Date(now()));
        await insertAudit(tx, { ...base, sessionId: tokens.sessionId, event: 'LOGIN_SUCCEEDED', outcome: 'SUCCESS' });
        return { kind: 'session', tokens, delivery: input.delivery };
      });
    },

    /**
     * Completes a challenge with a TOTP code. The challenge row and the user's factor are locked, so parallel
     * codes queue: at most `maxCodeAttempts` wrong codes are ever checked, and a code is accepted at most once.
     */
    async verifyCode(
      challengeId: unknown,
      code: string,
      clientAddress: string,
    ): Promise<{ tokens: SessionTokens; delivery: RefreshDelivery }> {
      const parsed = parseOpaqueToken(challengeId);
      if (!parsed) throw INVALID_CHALLENGE();
      const { tenantId, hash } = parsed;
      await throttle.attempt('code', { address: clientAddress });

      const outcome = await db.withTenant(tenantId, async (tx) => {
        const challenge = await factors.lockChallenge(tx, tenantId, hash);
        if (!challenge || challenge.expires_at.getTime() <= now()) {
          if (challenge) await factors.deleteChallenge(tx, tenantId, hash);
          return { error: INVALID_CHALLENGE() };
        }
        const base = { tenantId, userId: challenge.user_id, clientAddress };
        await throttle.attempt('code', { account: challenge.user_id });
        const factor = await factors.findFactor(tx, tenantId, challenge.user_id, true);
        const secret = factor?.confirmed_at ? options.secretBox.open(factor.secret_encrypted, challenge.user_id) : undefined;
        const step = secret ? await checkTotp(secret, code, factor?.last_time_step ? Number(factor.last_time_step) : null) : null;
        if (step === null) {
          const failures = await factors.countChallengeFailure(tx, tenantId, hash);
          await insertAudit(tx, { ...base, event: 'CODE_REFUSED', outcome: 'FAILURE', reason: 'invalid_code' });
          if (failures >= maxCodeAttempts) {
            await factors.deleteChallenge(tx, tenantId, hash);
            await insertAudit(tx, { ...base, event: 'CHALLENGE_DESTROYED', outcome: 'FAILURE', reason: 'too_many_wrong_codes' });
            return { error: INVALID_CHALLENGE() };
          }
          return { error: unauthenticated('invalid_code', 'The code is not valid') };
        }
        await factors.recordFactorUse(tx, tenantId, challenge.user_id, step, false);
        await factors.deleteChallenge(tx, tenantId, hash);
        const roles = await findRoles(tx, tenantId, challenge.user_id);
        if (!roles) return { error: INVALID_CHALLENGE() };
        const tokens = await sessions.open(tx, { tenantId, userId: challenge.user_id, roles }, ['pwd', 'otp'], new Date(now()));
        await insertAudit(tx, { ...base, sessionId: tokens.sessionId, event: 'CODE_ACCEPTED', outcome: 'SUCCESS' });
        await insertAudit(tx, { ...base, sessionId: tokens.sessionId, event: 'LOGIN_SUCCEEDED', outcome: 'SUCCESS' });
        return { tokens, delivery: challenge.refresh_delivery, userId: challenge.user_id };
      });
      if ('error' in outcome) throw outcome.error;
      await throttle.succeeded('code', outcome.userId);
      return { tokens: outcome.tokens, delivery: outcome.delivery };
    },
  };
}
export type LoginService = ReturnType<typeof createLoginService>;
