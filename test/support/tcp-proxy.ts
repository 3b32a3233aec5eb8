import { createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a real Postgres or Redis, for failure tests: `cut()` drops every
 * connection and refuses new ones (the server is gone), `hang()` accepts but never answers
 * (the server is stuck), `restore()` relays again. The servers themselves stay real.
 */
export class TcpProxy {
  private server?: Server;
  private mode: 'pass' | 'refuse' | 'hang' = 'pass';
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname, Number(u.port));
  }

  async start(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server!.address() as { port: number }).port;
  }

  /** The same URL, pointing at the proxy. */
  async proxiedUrl(url: string): Promise<string> {
    const port = this.server ? (this.server.address() as { port: number }).port : await this.start();
    const u = new URL(url);
    u.port = String(port);
    return u.toString();
  }

  cut(): void {
    this.mode = 'refuse';
    this.dropAll();
  }

  hang(): void {
    this.mode = 'hang';
    this.dropAll();
  }

  /**
   * The connections stay open but nothing goes through any more, and new ones hang: a server
   * stuck with its sockets open, or a network path that black-holes packets.
   */
  silence(): void {
    this.mode = 'hang';
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.on('data', () => undefined);
      upstream.on('data', () => undefined);
    }
    this.pairs.clear();
  }

  restore(): void {
    this.mode = 'pass';
  }

  async stop(): Promise<void> {
    this.dropAll();
    const server = this.server;
    this.server = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.pairs.clear();
  }

  private accept(client: Socket): void {
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.mode === 'hang') {
      client.on('data', () => undefined); // swallow: a server that never answers
      return;
    }
    const upstream = new (client.constructor as typeof Socket)();
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => upstream.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    upstream.connect(this.targetPort, this.targetHost, () => {
      if (this.mode !== 'pass') return; // silenced while connecting
      client.pipe(upstream);
      upstream.pipe(client);
      this.pairs.add(pair);
    });
    client.on('close', () => this.pairs.delete(pair));
  }
}
