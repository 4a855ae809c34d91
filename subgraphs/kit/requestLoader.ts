import DataLoader from 'dataloader';

/**
 * One loader per request and name: what a request's resolvers load one at a time (each entity of an `_entities`
 * call, a list under each parent of a page) is collected over one tick and loaded with one call of `batch` (one
 * statement per kind, in one transaction of the caller's tenant) instead of one transaction per object. Loaders
 * belong to the request's context object, so a batch never mixes callers and nothing is kept past the request.
 * Repeated keys in one request are loaded once.
 */
const loadersOf = new WeakMap<object, Map<string, DataLoader<unknown, unknown>>>();

export function requestLoader<K, V>(
  context: object,
  name: string,
  batch: (keys: readonly K[]) => Promise<ReadonlyArray<V | Error>>,
): DataLoader<K, V> {
  let loaders = loadersOf.get(context);
  if (!loaders) loadersOf.set(context, (loaders = new Map()));
  let loader = loaders.get(name) as DataLoader<K, V> | undefined;
  if (!loader) {
    loader = new DataLoader<K, V>(batch);
    loaders.set(name, loader as DataLoader<unknown, unknown>);
  }
  return loader;
}

/** The rows in the order of `keys` (null where no row has that key), as a DataLoader batch must answer. */
export function inKeyOrder<R, K>(rows: readonly R[], keys: readonly K[], keyOf: (row: R) => K): Array<R | null> {
  const byKey = new Map<K, R>();
  for (const row of rows) byKey.set(keyOf(row), row);
  return keys.map((key) => byKey.get(key) ?? null);
}

/** The rows grouped under each of `keys`, in the order of `keys` (an empty list where none has that key). */
export function groupedInKeyOrder<R, K>(rows: readonly R[], keys: readonly K[], keyOf: (row: R) => K): R[][] {
  const groups = new Map<K, R[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key)!);
}
