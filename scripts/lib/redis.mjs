// Real Redis (Debian's redis-server) as a supervised child, or the one the
// user points REDIS_URL at.
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { maskUrl, log, portInUse, waitFor, which } from './util.mjs';

/** Sends a raw RESP PING (with AUTH when the URL has a password) and expects PONG. */
function ping(url, timeoutMs = 2000) {
  const u = new URL(url);
  const host = u.hostname || '127.0.0.1';
  const port = Number(u.port || 6379);
  const pass = decodeURIComponent(u.password);
  const user = decodeURIComponent(u.username);
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = '';
    const done = (err, ok) => {
      sock.destroy();
      if (err) reject(err);
      else resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(new Error(`no answer from ${maskUrl(url)}`)));
    sock.once('error', (e) => done(e));
    sock.on('data', (b) => {
      buf += b.toString();
      if (buf.includes('+PONG')) done(null, true);
      else if (/(^|\n)-/.test(buf)) done(new Error(`redis said: ${buf.trim().replace(pass || '\0', '***')}`));
    });
    sock.once('connect', () => {
      const cmds = [];
      if (pass) cmds.push(user ? ['AUTH', user, pass] : ['AUTH', pass]);
      cmds.push(['PING']);
      // Only the error path above reads AUTH's reply; +OK is ignored.
      sock.write(cmds.map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`).join(''));
    });
  });
}

/**
 * Starts redis-server on 127.0.0.1:`port` with AOF in `dir`, or reuses
 * REDIS_URL when set. Returns { url, external }.
 */
export async function startRedis(sup, { port, dir }) {
  if (process.env.REDIS_URL) {
    const url = process.env.REDIS_URL;
    log(`using REDIS_URL from the environment: ${maskUrl(url)}`);
    await waitFor(`Redis at ${maskUrl(url)}`, () => ping(url), { timeoutMs: 10_000 });
    return { url, external: true };
  }
  if (!which('redis-server')) throw new Error('redis-server not found (apt-get install -y redis-server)');
  if (await portInUse(port)) throw new Error(`port ${port} is busy; is another stack running? (set REDIS_URL to use an existing Redis)`);
  mkdirSync(dir, { recursive: true });
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no', '--logfile', ''];
  const proc = sup.start('redis', 'redis-server', args, { echo: false });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor('redis-server', () => ping(url), { timeoutMs: 20_000, alive: proc.alive, logFile: proc.logFile });
  return { url, external: false };
}
