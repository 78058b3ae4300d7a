import net from 'node:net';

/** A TCP relay to PostgreSQL that the test can cut, to take "the database" away and bring it back. */
export class Relay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    if (this.server?.listening) return;
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** A fresh PostgreSQL test database reached through a relay the test can cut; `url` goes through it. */
export async function relayedPostgres(): Promise<{ url: string; relay: Relay; drop: () => Promise<void> }> {
  const { createTestDatabase } = await import('./databases.js');
  const db = await createTestDatabase('postgres');
  const url = new URL(db.url);
  const relay = new Relay({ host: url.hostname, port: Number(url.port || 5432) });
  await relay.up();
  url.hostname = '127.0.0.1';
  url.port = String(relay.port);
  return { url: url.href, relay, drop: () => db.drop() };
}
