import { randomUUID } from 'node:crypto';
import { parsePage } from '../../subgraphs/kit/pagination';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/** parsePage lets through exactly the cursor instants Postgres can hold: a cursor never fails in the database. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

const cursorOf = (createdAt: string) => Buffer.from(JSON.stringify([createdAt, randomUUID()])).toString('base64url');
const accepts = (createdAt: string) => {
  try {
    parsePage({ first: 5, after: cursorOf(createdAt) });
    return true;
  } catch {
    return false;
  }
};
// The simple protocol, with the instant as a literal (ISO characters only): the embedded database's socket mishandles
// a failed statement of the extended protocol.
const postgresHolds = async (createdAt: string) =>
  db.pool.query(`SELECT '${createdAt}'::timestamptz AS at`).then(
    () => true,
    () => false,
  );

// JavaScript's whole range of instants, and the edges of Postgres's.
const MIN = -8.64e15;
const MAX = 8.64e15;
const edges = [
  MIN,
  MAX,
  Date.UTC(0, 0, 1) - 1,
  Date.UTC(1, 0, 1) - 1,
  Date.UTC(1, 0, 1),
  Date.UTC(9999, 11, 31, 23, 59, 59, 999),
  Date.UTC(10000, 0, 1),
  0,
  Date.now(),
];
// Date.UTC maps years 0–99 to 1900–1999: set the year explicitly for the edges below 100.
const yearEdge = (year: number, endOfYear: boolean) => {
  const date = new Date(0);
  date.setUTCFullYear(year, endOfYear ? 11 : 0, endOfYear ? 31 : 1);
  date.setUTCHours(endOfYear ? 23 : 0, endOfYear ? 59 : 0, endOfYear ? 59 : 0, endOfYear ? 999 : 0);
  return date.getTime();
};

it('accepts a cursor instant if and only if Postgres can hold it', async () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const instants = [
    ...edges,
    yearEdge(0, false),
    yearEdge(0, true),
    yearEdge(1, false),
    ...Array.from({ length: 400 }, () => MIN + random() * (MAX - MIN)),
    ...Array.from({ length: 100 }, () => yearEdge(Math.floor(random() * 20_000) - 5_000, random() < 0.5)),
  ].map((time) => new Date(Math.round(time)).toISOString());
  const disagreements: string[] = [];
  for (const instant of instants) {
    if (accepts(instant) !== (await postgresHolds(instant))) disagreements.push(instant);
  }
  expect(disagreements).toEqual([]);
  // Both answers occur: the check is not vacuous.
  expect(instants.some(accepts)).toBe(true);
  expect(instants.some((instant) => !accepts(instant))).toBe(true);
});
