import { randomBytes } from 'node:crypto';
import { createSecretBox } from '../../auth';

const box = createSecretBox(randomBytes(32));
const parts = (sealed: string) => sealed.split('.');

describe('the secret box (AES-256-GCM at rest)', () => {
  it('opens what it sealed, for the same context only', () => {
    const sealed = box.seal('private key material', 'kid-1');
    expect(box.open(sealed, 'kid-1')).toBe('private key material');
    expect(() => box.open(sealed, 'kid-2')).toThrow();
  });

  it('refuses a tampered body', () => {
    const [version, iv, body, tag] = parts(box.seal('private key material', 'kid-1'));
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] ^= 1;
    expect(() => box.open([version, iv, flipped.toString('base64url'), tag].join('.'), 'kid-1')).toThrow();
  });

  it.each([4, 8, 12, 15])('refuses the right tag cut down to %i bytes (a short tag is guessable)', (length) => {
    const [version, iv, body, tag] = parts(box.seal('private key material', 'kid-1'));
    const short = Buffer.from(tag, 'base64url').subarray(0, length).toString('base64url');
    expect(() => box.open([version, iv, body, short].join('.'), 'kid-1')).toThrow();
  });

  it('writes a 16-byte tag and a 12-byte nonce', () => {
    const [, iv, , tag] = parts(box.seal('x', 'c'));
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
  });
});
