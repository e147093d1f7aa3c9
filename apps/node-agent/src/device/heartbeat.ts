import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** What one heartbeat read of a device found. */
export type IoProbe =
  | { kind: 'ok'; ms: number }
  /** The read failed: dd's message (e.g. "Input/output error"). */
  | { kind: 'error'; message: string }
  /** No answer within the bound; `ms` is how long the oldest read has been waiting (a hung read is never started twice). */
  | { kind: 'timeout'; ms: number };

/** Reads still waiting on a device, by device path: a device that hangs keeps its one read, and no more are piled on it. */
const waiting = new Map<string, number>();

/**
 * The I/O heartbeat: one 4 KiB O_DIRECT read at the start of the device
 * (`dd iflag=direct`, so the page cache cannot answer for the device), in a
 * child process: a device that hangs leaves a `dd` stuck in the kernel, never
 * the agent's event loop or libuv's thread pool. The answer is bounded by
 * `timeoutMs` whatever the child does; the child is then sent SIGKILL (which
 * takes effect once the kernel lets it), and until it is gone later
 * heartbeats of that device answer `timeout` at once without starting another.
 */
export function readDirect(device: string, timeoutMs: number): Promise<IoProbe> {
  const started = waiting.get(device);
  if (started !== undefined) return Promise.resolve({ kind: 'timeout', ms: Math.round(performance.now() - started) });
  const t0 = performance.now();
  waiting.set(device, t0);
  return new Promise<IoProbe>((resolve) => {
    const child = execFile(
      'dd',
      [`if=${device}`, 'of=/dev/null', 'bs=4096', 'count=1', 'iflag=direct', 'status=none'],
      { timeout: 0, maxBuffer: 64 * 1024, encoding: 'utf8' },
      (err, _stdout, stderr) => {
        waiting.delete(device);
        clearTimeout(timer);
        if (!err) resolve({ kind: 'ok', ms: performance.now() - t0 });
        else resolve({ kind: 'error', message: (stderr.trim().split('\n').pop() ?? '') || err.message });
      },
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ kind: 'timeout', ms: Math.round(performance.now() - t0) });
    }, timeoutMs);
    timer.unref();
  });
}
