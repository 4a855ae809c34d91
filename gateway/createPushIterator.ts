/**
 * An async iterator fed by `push`, as subscription transports consume it (graphql-ws, graphql-sse): `end` lets the
 * consumer read what is queued, then finishes; the consumer's `return()` (the client completed, or went away) calls
 * `onReturn` once. `finished` resolves when the consumer has read the end, or returned.
 */
export function createPushIterator<T>(onReturn: () => void) {
  const queue: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let ended = false;
  let returned = false;
  let markFinished!: () => void;
  const finished = new Promise<void>((resolve) => (markFinished = resolve));
  const DONE: IteratorResult<T> = { value: undefined, done: true };

  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (queue.length) return Promise.resolve({ value: queue.shift()!, done: false });
      if (ended || returned) {
        markFinished();
        return Promise.resolve(DONE);
      }
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
      if (!returned) {
        returned = true;
        queue.length = 0;
        if (!ended) onReturn();
      }
      markFinished();
      waiting?.(DONE);
      waiting = undefined;
      return Promise.resolve(DONE);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  const push = (value: T): boolean => {
    if (ended || returned) return false;
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value, done: false });
    } else queue.push(value);
    return true;
  };

  return {
    iterator,
    push,
    /** Finishes the stream after `last` (if given) and whatever is queued. */
    end(last?: T) {
      if (ended || returned) return;
      if (last !== undefined) push(last);
      ended = true;
      if (waiting) {
        waiting(DONE);
        waiting = undefined;
        markFinished();
      }
    },
    get queued() {
      return queue.length;
    },
    get done() {
      return ended || returned;
    },
    finished,
  };
}
export type PushIterator<T> = ReturnType<typeof createPushIterator<T>>;
