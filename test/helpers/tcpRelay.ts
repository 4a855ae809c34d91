import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

interface Held {
  chunk: Buffer;
  dueAt: number;
}

/**
 * A TCP relay the test controls, between a service and a real server (Postgres, Redis): it can cut every open
 * connection, or hold the server's replies back for a while (a slow store). Never touches the server itself.
 */
export async function startTcpRelay(target: { host: string; port: number }) {
  const open = new Set<Socket>();
  const flushers = new Set<() => void>();
  let connections = 0;
  let delayMs = 0;
  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) open.add(socket);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      open.delete(client);
      upstream.destroy();
      flushers.delete(flush);
      if (timer) clearTimeout(timer);
    });
    upstream.on('close', () => (open.delete(upstream), client.destroy()));
    client.pipe(upstream);
    // Replies keep their order: each leaves when it is due and after every reply before it.
    const held: Held[] = [];
    let timer: NodeJS.Timeout | undefined;
    function flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (held.length && held[0].dueAt <= Date.now()) {
        const { chunk } = held.shift()!;
        if (!client.destroyed) client.write(chunk);
      }
      if (held.length) timer = setTimeout(flush, held[0].dueAt - Date.now());
    }
    flushers.add(flush);
    upstream.on('data', (chunk: Buffer) => {
      if (!delayMs && !held.length) client.write(chunk);
      else {
        held.push({ chunk, dueAt: Date.now() + delayMs });
        flush();
      }
    });
    (client as Socket & { held?: Held[] }).held = held;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get connections() {
      return connections;
    },
    /** Holds every reply from the server back this long; a shorter delay also applies to replies already held. */
    setDelay(ms: number) {
      delayMs = ms;
      for (const socket of open) {
        const held = (socket as Socket & { held?: Held[] }).held;
        for (const entry of held ?? []) entry.dueAt = Math.min(entry.dueAt, Date.now() + ms);
      }
      flushers.forEach((flush) => flush());
    },
    /** Cuts every open connection (new ones still go through). */
    cut: () => open.forEach((socket) => socket.destroy()),
    close: () =>
      new Promise<void>((resolve) => {
        open.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}
