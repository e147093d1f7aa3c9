import { execFile } from 'node:child_process';
import { internal, type PlinthError } from '@plinth/errors';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Exit codes that are not failures (e.g. blkid's 2 = "nothing found"). */
  okCodes?: number[];
  /** Builds the domain error for a failure; default is Internal. */
  onError?: (message: string) => PlinthError;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** The last meaningful stderr lines, trimmed to a readable length for a gRPC message. */
export function summarizeStderr(stderr: string, max = 300): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const text = lines.slice(-3).join('; ');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Runs an OS command with an argument array (never a shell) and a timeout.
 * A failure becomes a domain error whose message names the command and
 * carries a short stderr summary, not a raw dump.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr, code: 0 });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      if (typeof e.code === 'number' && opts.okCodes?.includes(e.code)) return resolve({ stdout, stderr, code: e.code });
      const make = opts.onError ?? ((m: string) => internal(m));
      let message: string;
      if (e.code === 'ENOENT') message = `${cmd} is not installed on this node`;
      else if (e.killed) message = `${cmd} ${args.join(' ')} timed out after ${timeout} ms`;
      else {
        const why = summarizeStderr(stderr) || summarizeStderr(stdout) || `exit code ${String(e.code)}`;
        message = `${cmd} ${args.join(' ')} failed: ${why}`;
      }
      reject(make(message));
    });
  });
}
