import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { TestApp } from './app.js';

export interface Message {
  type: string;
  channel: string | null;
  id: string | null;
  payload: Record<string, unknown>;
}

/** A live-stream client that records everything it receives. */
export class Client {
  readonly messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as Message);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.waiters.splice(0)) w();
      }),
    );
  }

  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }

  /** The first message matching, waiting for it (bounded: the test fails rather than hangs). */
  async next(match: (m: Message) => boolean, what = 'a message'): Promise<Message> {
    const until = Date.now() + 10_000;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > until || this.ws.readyState === WebSocket.CLOSED)
        throw new Error(`no ${what}; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** The underlying TCP socket, to stop reading (a slow or dead client). */
  get socket(): Duplex {
    // ws keeps it on a private field; tests need it to simulate a client that stops reading.
    return (this.ws as unknown as { _socket: Duplex })._socket;
  }

  close(): void {
    this.ws.close();
  }
}

export async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return `ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1/stream`;
}

/** Opens a connection; resolves with the client, or with the HTTP status that refused the upgrade. */
export function connect(url: string, headers: Record<string, string> = {}): Promise<Client | number> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(new Client(ws)));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

export async function authed(url: string, token: string): Promise<Client> {
  const c = await connect(url);
  if (typeof c === 'number') throw new Error(`refused: ${c}`);
  c.send({ type: 'auth', token });
  await c.next((m) => m.type === 'ready', 'ready');
  return c;
}
