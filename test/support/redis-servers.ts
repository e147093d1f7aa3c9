/**
 * Real redis-server and redis-sentinel processes (Debian's packages) on loopback, free ports and temp dirs:
 * a TLS Redis with an ACL user, and a primary + replica watched by sentinels. A missing binary is an error,
 * never a skip (`node scripts/run.mjs` installs both through ensureSystemPackages).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';

const exec = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

/** Throws naming the Debian package when `bin` is not on PATH. */
export function requireBinary(bin: 'redis-server' | 'redis-sentinel' | 'openssl'): void {
  const r = spawnSync(bin, ['--version'], { stdio: 'ignore' });
  if (r.error) throw new Error(`${bin} not found: apt-get install -y ${bin === 'openssl' ? 'openssl' : bin} (node scripts/run.mjs installs it)`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await ok().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
}

/** PING over a throwaway connection with `opts`. */
export async function pingWith(opts: RedisOptions): Promise<boolean> {
  const r = new Redis({ lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000, ...opts });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } finally {
    r.disconnect();
  }
}

/** One redis-server (or redis-sentinel) child. */
export class RedisProcess {
  private child: ChildProcess | undefined;
  output = '';

  constructor(
    readonly bin: 'redis-server' | 'redis-sentinel',
    readonly port: number,
    private readonly args: string[],
  ) {}

  start(): void {
    this.child = spawn(this.bin, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9: no AOF flush, no goodbye to the replicas. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const c = this.child;
    if (!c || !this.alive) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(sig);
    await exited;
  }
}

/** Self-signed CA and a server certificate for localhost/127.0.0.1, made with openssl in a temp dir. */
async function makeTlsFiles(): Promise<{ dir: string; ca: string; cert: string; key: string }> {
  requireBinary('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'plinth-redis-tls-'));
  const f = (n: string) => join(dir, n);
  await exec('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=plinth-test-ca',
  ]);
  await exec('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(f('ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await exec('openssl', [
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    '1',
    '-extfile',
    f('ext'),
  ]);
  return { dir, ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

/** A redis-server serving TLS only, with the default user off and one ACL user: a managed Redis in miniature. */
export async function startTlsAclRedis(user: string, password: string): Promise<{ server: RedisProcess; port: number; ca: string }> {
  requireBinary('redis-server');
  const tls = await makeTlsFiles();
  const port = await freePort();
  const server = new RedisProcess('redis-server', port, [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    tls.dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--tls-cert-file',
    tls.cert,
    '--tls-key-file',
    tls.key,
    '--tls-ca-cert-file',
    tls.ca,
    '--tls-auth-clients',
    'no',
    '--user',
    'default',
    'off',
    '--user',
    user,
    'on',
    `>${password}`,
    '~*',
    '&*',
    '+@all',
  ]);
  server.start();
  const ca = readFileSync(tls.ca);
  await waitUntil(`TLS redis-server on ${port}`, () => pingWith({ host: '127.0.0.1', port, tls: { ca, servername: 'localhost' }, username: user, password }));
  return { server, port, ca: tls.ca };
}

/**
 * A primary, one replica and `n` sentinels (quorum 2) monitoring it as `name`, on loopback. Sentinels notice a
 * dead primary after `downAfterMs` and promote the replica.
 */
export class SentinelTopology {
  primary!: RedisProcess;
  replica!: RedisProcess;
  sentinels: RedisProcess[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'plinth-sentinel-'));

  constructor(
    readonly name = 'plinth',
    private readonly opts: { sentinels?: number; downAfterMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    requireBinary('redis-server');
    requireBinary('redis-sentinel');
    const server = async (role: string, extra: string[]) => {
      const port = await freePort();
      const dir = join(this.dir, role);
      mkdirSync(dir);
      const p = new RedisProcess('redis-server', port, [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
        ...extra,
      ]);
      p.start();
      await waitUntil(`redis-server ${role} on ${port}`, () => pingWith({ host: '127.0.0.1', port }));
      return p;
    };
    this.primary = await server('primary', []);
    this.replica = await server('replica', ['--replicaof', '127.0.0.1', String(this.primary.port)]);
    await waitUntil('replica in sync', async () => (await this.info(this.replica.port, 'replication')).includes('master_link_status:up'));
    const down = this.opts.downAfterMs ?? 1000;
    for (let i = 0; i < (this.opts.sentinels ?? 3); i++) {
      const port = await freePort();
      const conf = join(this.dir, `sentinel-${i}.conf`);
      // Sentinel rewrites its config file as it learns the topology, so each gets its own writable copy.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${this.dir}`,
          `sentinel monitor ${this.name} 127.0.0.1 ${this.primary.port} 2`,
          `sentinel down-after-milliseconds ${this.name} ${down}`,
          `sentinel failover-timeout ${this.name} ${Math.max(3000, down * 3)}`,
          `sentinel parallel-syncs ${this.name} 1`,
          '',
        ].join('\n'),
      );
      const s = new RedisProcess('redis-sentinel', port, [conf]);
      s.start();
      this.sentinels.push(s);
      await waitUntil(`redis-sentinel on ${port}`, () => pingWith({ host: '127.0.0.1', port }));
    }
    // Every sentinel must know the replica and the other sentinels before a failover can be agreed.
    await waitUntil(
      'sentinels see the replica and each other',
      async () => {
        for (const s of this.sentinels) {
          const r = new Redis({ host: '127.0.0.1', port: s.port, lazyConnect: true, retryStrategy: () => null });
          r.on('error', () => undefined);
          try {
            await r.connect();
            const replicas = (await r.call('SENTINEL', 'REPLICAS', this.name)) as unknown[];
            const others = (await r.call('SENTINEL', 'SENTINELS', this.name)) as unknown[];
            if (replicas.length < 1 || others.length < this.sentinels.length - 1) return false;
          } finally {
            r.disconnect();
          }
        }
        return true;
      },
      30_000,
    );
  }

  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** The primary's address as a live sentinel reports it. */
  async primaryAddress(): Promise<{ host: string; port: number }> {
    for (const s of this.sentinels.filter((x) => x.alive)) {
      const r = new Redis({ host: '127.0.0.1', port: s.port, lazyConnect: true, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        const [host, port] = (await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [string, string];
        return { host, port: Number(port) };
      } catch {
        // try the next sentinel
      } finally {
        r.disconnect();
      }
    }
    throw new Error('no sentinel answered');
  }

  /** Waits until the sentinels name the replica as the primary and it accepts writes; resolves with the time taken. */
  async waitForPromotion(timeoutMs = 60_000): Promise<number> {
    const t0 = performance.now();
    await waitUntil(
      'sentinel promotion of the replica',
      async () => (await this.primaryAddress()).port === this.replica.port && (await this.info(this.replica.port, 'replication')).includes('role:master'),
      timeoutMs,
    );
    return performance.now() - t0;
  }

  async info(port: number, section: string): Promise<string> {
    const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return await r.info(section);
    } finally {
      r.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, this.replica, this.primary].filter(Boolean).map((p) => p.stop()));
  }
}
