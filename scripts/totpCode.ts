/** npx tsx scripts/totpCode.ts [base32-secret]: prints the current TOTP code (default: the demo admins' secret). */
import { generate } from 'otplib';
import { DEMO_TOTP_SECRET } from '../subgraphs/auth/data/seed';

generate({ secret: process.argv[2] ?? DEMO_TOTP_SECRET }).then((code) => console.log(code));
