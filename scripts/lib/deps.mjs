// Installs what a fresh machine lacks: npm packages and the Debian tools the
// stack and the node agent need.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, log, run, which } from './util.mjs';

export async function ensureDeps() {
  const lock = join(ROOT, 'package-lock.json');
  const stamp = join(ROOT, 'node_modules', '.package-lock.json');
  // npm rewrites node_modules/.package-lock.json after every install, so a
  // lockfile newer than it means someone changed dependencies since.
  const stale = !existsSync(stamp) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(stamp).mtimeMs);
  if (!stale) return;
  log('installing npm dependencies (npm ci)…');
  if ((await run('npm', ['ci', '--no-audit', '--no-fund'], { timeoutMs: 20 * 60_000 })) === 0) return;
  log('npm ci failed; trying npm install');
  if ((await run('npm', ['install', '--no-audit', '--no-fund'], { timeoutMs: 20 * 60_000 })) !== 0) {
    throw new Error('npm install failed; see the output above');
  }
}

// nvme (nvme-cli): the node agent reads EBS's NVMe log page with it; the HostOs contract runs it on a loop device.
const TOOLS = ['redis-server', 'redis-sentinel', 'mkfs.xfs', 'mkfs.ext4', 'losetup', 'blkid', 'resize2fs', 'xfs_growfs', 'nvme'];
// python3-fusepy: the failing disk of the node health tests (test/support/failfs.py).
const APT_PACKAGES = ['redis-server', 'redis-sentinel', 'xfsprogs', 'e2fsprogs', 'util-linux', 'nvme-cli', 'python3-fusepy'];

/** Tools, and Debian's fusepy module (not a command), that are not there. */
const absent = () => [...TOOLS.filter((t) => !which(t)), ...(existsSync('/usr/lib/python3/dist-packages/fusepy.py') ? [] : ['python3-fusepy'])];

export async function ensureSystemPackages() {
  const missing = absent();
  if (missing.length === 0) return;
  const hint = `apt-get install -y ${APT_PACKAGES.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.join(', ')}; as root run: apt-get update && ${hint}`);
  }
  log(`installing system packages (missing: ${missing.join(', ')})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if ((await run('apt-get', ['update'], { env, timeoutMs: 10 * 60_000 })) !== 0) throw new Error('apt-get update failed');
  if ((await run('apt-get', ['install', '-y', '--no-install-recommends', ...APT_PACKAGES], { env, timeoutMs: 15 * 60_000 })) !== 0) {
    throw new Error(`${hint} failed`);
  }
  const still = absent();
  if (still.length) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
}
