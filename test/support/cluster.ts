import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './harness.js';

const handedOut = new Set<number>();

/**
 * A free loopback TCP port (bound, read, released), never one this process handed out before:
 * the OS may offer a just-released port again, and two members on one port would be one member.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** A child process whose output is kept for failure messages. */
export class Proc {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  static start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Proc {
    return new Proc(name, spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  tail(lines = 30): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }
}

/** Polls until `probe` returns a truthy value (harness `waitFor`); the error names `what`. */
export function until<T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  return waitFor(async () => (await probe()) ?? undefined, timeoutMs, everyMs).catch((err: Error) => {
    throw new Error(`${what}: ${err.message}`);
  });
}

/** GET a health URL: status and body (status 0 when nothing answers). */
export async function health(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: (err as Error).message };
  }
}

/** GET a health URL: the status code, or 0 when nothing answers. */
export async function healthStatus(url: string, timeoutMs = 3000): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * A Sentinel-managed Redis on loopback: a master, a replica and three sentinels (Debian's
 * redis-server and redis-sentinel), each its own process with data in a temp folder.
 */
export class SentinelGroup {
  readonly masterName = 'mymaster';
  private readonly dir = mkdtempSync(join(tmpdir(), 'sentinel-'));
  private readonly procs: Proc[] = [];
  ports = { master: 0, replica: 0, sentinels: [] as number[] };

  async start(): Promise<void> {
    this.ports.master = await freePort();
    this.ports.replica = await freePort();
    this.ports.sentinels = [await freePort(), await freePort(), await freePort()];
    const server = (name: string, port: number, extra: string[]) => {
      const dir = join(this.dir, name);
      mkdirSync(dir);
      return Proc.start(name, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', ...extra], { PATH: process.env.PATH });
    };
    this.procs.push(server('master', this.ports.master, []));
    this.procs.push(server('replica', this.ports.replica, ['--replicaof', '127.0.0.1', String(this.ports.master)]));
    await until('replica in sync', async () => {
      const r = new Redis(this.ports.replica, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: true });
      try {
        await r.connect();
        return /master_link_status:up/.test(await r.info('replication'));
      } finally {
        r.disconnect();
      }
    });
    for (const [i, port] of this.ports.sentinels.entries()) {
      const file = join(this.dir, `sentinel-${i}.conf`);
      // A sentinel rewrites its own config file: each gets a writable one.
      writeFileSync(file, [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${this.masterName} 127.0.0.1 ${this.ports.master} 2`,
        `sentinel down-after-milliseconds ${this.masterName} 1000`,
        `sentinel failover-timeout ${this.masterName} 5000`,
        `sentinel parallel-syncs ${this.masterName} 1`,
        '',
      ].join('\n'));
      this.procs.push(Proc.start(`sentinel-${i}`, 'redis-sentinel', [file], { PATH: process.env.PATH }));
    }
    // Every sentinel knows the master and the replica before the apps ask them.
    for (const port of this.ports.sentinels) {
      await until(`sentinel ${port} sees the replica`, async () => {
        const s = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: true });
        try {
          await s.connect();
          const replicas = (await s.call('SENTINEL', 'REPLICAS', this.masterName)) as unknown[];
          return replicas.length === 1;
        } finally {
          s.disconnect();
        }
      });
    }
  }

  /** `redis+sentinel://` URL naming the group's master. */
  url(db = 0): string {
    return `redis+sentinel://${this.ports.sentinels.map((p) => `127.0.0.1:${p}`).join(',')}/${this.masterName}/${db}`;
  }

  /** The port of the server the sentinels currently call master. */
  async masterPort(): Promise<number> {
    const s = new Redis(this.ports.sentinels[0], '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      const [, port] = (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName)) as [string, string];
      return Number(port);
    } finally {
      s.disconnect();
    }
  }

  /** Forces a failover now (the replica is promoted, the old master demoted) and waits for it. */
  async failover(): Promise<number> {
    const before = await this.masterPort();
    const s = new Redis(this.ports.sentinels[0], '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      await s.call('SENTINEL', 'FAILOVER', this.masterName);
    } finally {
      s.disconnect();
    }
    return until('failover to the replica', async () => {
      const port = await this.masterPort();
      if (port === before) return false;
      const promoted = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      try {
        return /role:master/.test(await promoted.info('replication')) && port;
      } finally {
        promoted.disconnect();
      }
    }, 20_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill('SIGKILL')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Debian's caddy on loopback running deploy/Caddyfile (the compose proxy) with a local CA:
 * https://localhost:<port> in front of the given api addresses.
 */
export class CaddyProxy {
  private readonly dir = mkdtempSync(join(tmpdir(), 'caddy-'));
  private proc?: Proc;
  port = 0;

  /** The local CA's root certificate (for NODE_EXTRA_CA_CERTS of clients). */
  get rootCert(): string {
    return join(this.dir, 'data/caddy/pki/authorities/local/root.crt');
  }

  get url(): string {
    return `https://localhost:${this.port}`;
  }

  async start(upstreams: string[]): Promise<void> {
    this.port = await freePort();
    const httpPort = await freePort();
    this.proc = Proc.start('caddy', 'caddy', ['run', '--config', resolve('deploy/Caddyfile'), '--adapter', 'caddyfile'], {
      PATH: process.env.PATH,
      HOME: this.dir,
      XDG_DATA_HOME: join(this.dir, 'data'),
      XDG_CONFIG_HOME: join(this.dir, 'config'),
      PUBLIC_BASE_URL: this.url,
      CADDY_TLS: 'internal',
      CADDY_UPSTREAMS: 'static',
      // Debian's caddy (2.6.2) resends a retried POST with an empty body: see deploy/Caddyfile.
      CADDY_RETRIES: 'off',
      API_UPSTREAMS: upstreams.join(' '),
      CADDY_ADMIN: 'off',
      CADDY_HTTP_PORT: String(httpPort),
      CADDY_HTTPS_PORT: String(this.port),
      CADDY_BIND: '127.0.0.1',
    });
    await until('caddy serving TLS', async () => {
      if (!this.proc!.alive) throw new Error(`caddy exited: ${this.proc!.tail()}`);
      const { existsSync } = await import('node:fs');
      return existsSync(this.rootCert) && (await tlsAnswers(this.port));
    }, 30_000, 200);
  }

  /** Caddy's last log lines (JSON), for a failure's message. */
  tail(lines = 40): string {
    return this.proc?.tail(lines) ?? '';
  }

  async stop(): Promise<void> {
    await this.proc?.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function tlsAnswers(port: number): Promise<boolean> {
  const { connect } = await import('node:tls');
  return new Promise((resolveIt) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      socket.end();
      resolveIt(true);
    });
    socket.once('error', () => resolveIt(false));
  });
}
