import { badUserInput, type ContextUser, type SecretBox } from '../../auth';
import type { Database, Tx } from '../kit';
import { insertAudit } from './data/audit';
import * as data from './data/factors';
import { findEmail } from './data/identities';
import type { Throttle } from './throttle';
import { checkTotp, newTotpSecret, totpUri } from './totp';

const REFUSED_EVENT = { confirm: 'TOTP_ENROLMENT_REFUSED', disable: 'TOTP_DISABLE_REFUSED', 'step-up': 'STEP_UP_REFUSED' } as const;
const ACCEPTED_EVENT = { confirm: 'TOTP_ENROLLED', disable: 'TOTP_DISABLED', 'step-up': 'STEP_UP_SUCCEEDED' } as const;

/**
 * The caller's TOTP authenticator: start an enrolment (secret + otpauth URI), confirm it with a first code, disable it
 * with a code, or prove it again for a step-up.
 */
export function createFactorService(options: { db: Database; secretBox: SecretBox; throttle: Throttle }) {
  const { db, secretBox, throttle } = options;
  const wrongCode = () => badUserInput('The code is not valid', 'invalid_code');

  /**
   * Checks a code for the caller's factor (locked), records its time step so it is never accepted again. `alsoInTx`,
   * when given, runs in the same transaction once the code is accepted (what a change of credentials implies).
   */
  async function useCode<T = void>(
    viewer: ContextUser,
    code: string,
    clientAddress: string,
    expectConfirmed: boolean,
    onValid: 'confirm' | 'disable' | 'step-up',
    alsoInTx?: (tx: Tx) => Promise<T>,
  ): Promise<T> {
    await throttle.attempt('code', { account: viewer.id, address: clientAddress });
    const base = { tenantId: viewer.tenantId, userId: viewer.id, sessionId: viewer.sessionId, clientAddress };
    const accepted = await db.withTenant(viewer.tenantId, async (tx) => {
      const factor = await data.findFactor(tx, viewer.tenantId, viewer.id, true);
      if (!factor || Boolean(factor.confirmed_at) !== expectConfirmed) {
        throw badUserInput(
          expectConfirmed ? 'No authenticator is enrolled' : 'Start an enrolment first',
          expectConfirmed ? 'not_enrolled' : 'no_pending_enrolment',
        );
      }
      const step = await checkTotp(
        secretBox.open(factor.secret_encrypted, viewer.id),
        code,
        factor.last_time_step ? Number(factor.last_time_step) : null,
      );
      if (step === null) {
        await insertAudit(tx, { ...base, event: REFUSED_EVENT[onValid], outcome: 'FAILURE', reason: 'invalid_code' });
        return false;
      }
      if (onValid === 'disable') await data.deleteFactor(tx, viewer.tenantId, viewer.id);
      else await data.recordFactorUse(tx, viewer.tenantId, viewer.id, step, onValid === 'confirm');
      await insertAudit(tx, { ...base, event: ACCEPTED_EVENT[onValid], outcome: 'SUCCESS' });
      return { result: (await alsoInTx?.(tx)) as T };
    });
    if (!accepted) throw wrongCode();
    await throttle.succeeded('code', viewer.id);
    return accepted.result;
  }

  return {
    async start(viewer: ContextUser, clientAddress: string): Promise<{ secret: string; otpauthUri: string }> {
      return db.withTenant(viewer.tenantId, async (tx) => {
        const existing = await data.findFactor(tx, viewer.tenantId, viewer.id, true);
        if (existing?.confirmed_at) throw badUserInput('An authenticator is already enrolled; disable it first', 'already_enrolled');
        const secret = newTotpSecret();
        await data.upsertPendingFactor(tx, viewer.tenantId, viewer.id, secretBox.seal(secret, viewer.id));
        await insertAudit(tx, {
          tenantId: viewer.tenantId,
          userId: viewer.id,
          sessionId: viewer.sessionId,
          clientAddress,
          event: 'TOTP_ENROLMENT_STARTED',
          outcome: 'SUCCESS',
        });
        const label = (await findEmail(tx, viewer.tenantId, viewer.id)) ?? viewer.id;
        return { secret, otpauthUri: totpUri(secret, label) };
      });
    },
    /** Confirms an enrolment; `alsoInTx` runs in its transaction (ending the account's other sessions). */
    confirm: <T>(viewer: ContextUser, code: string, clientAddress: string, alsoInTx: (tx: Tx) => Promise<T>) =>
      useCode(viewer, code, clientAddress, false, 'confirm', alsoInTx),
    /** Removes the factor; `alsoInTx` runs in its transaction (ending the account's other sessions). */
    disable: <T>(viewer: ContextUser, code: string, clientAddress: string, alsoInTx: (tx: Tx) => Promise<T>) =>
      useCode(viewer, code, clientAddress, true, 'disable', alsoInTx),
    /** Proves the second factor again within a session (the caller then gets a token with a fresh auth_time). */
    stepUp: (viewer: ContextUser, code: string, clientAddress: string) => useCode(viewer, code, clientAddress, true, 'step-up'),
  };
}
export type FactorService = ReturnType<typeof createFactorService>;
