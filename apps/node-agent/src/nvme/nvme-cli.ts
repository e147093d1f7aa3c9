import { execFile } from 'node:child_process';
import { internal, type PlinthError } from '@plinth/errors';
import { summarizeStderr } from '../mount/exec.js';
import { EBS_LOG_PAGE_ID, EBS_LOG_PAGE_READ_BYTES } from './ebs-log-page.js';

const TIMEOUT_MS = 5_000;

/** The arguments of one EBS log page read: namespace 1, log 0xD0, one 4 KiB page, raw bytes on stdout. */
function getLogArgs(device: string): string[] {
  return ['get-log', device, '--namespace-id=1', `--log-id=0x${EBS_LOG_PAGE_ID.toString(16)}`, `--log-len=${EBS_LOG_PAGE_READ_BYTES}`, '--raw-binary'];
}

/**
 * Reads the EBS vendor log page of an NVMe device with nvme-cli's
 * `nvme get-log … --raw-binary`, which issues the NVMe admin Get Log Page
 * command through NVME_IOCTL_ADMIN_CMD (what aws-ebs-csi-driver's collector
 * does in-process; Node.js has no ioctl). `nvme` is the executable: nvme-cli,
 * or the emulated Nitro host's stand-in. Bytes, unparsed.
 */
export function readEbsLogPage(nvme: string, device: string): Promise<Uint8Array> {
  const args = getLogArgs(device);
  return new Promise((resolve, reject) => {
    execFile(
      nvme,
      args,
      { encoding: 'buffer', timeout: TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (!err) return resolve(new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength));
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        let why: PlinthError;
        if (e.code === 'ENOENT') why = internal(`${nvme} (nvme-cli) is not installed on this node`);
        else if (e.killed) why = internal(`${nvme} ${args.join(' ')} timed out after ${TIMEOUT_MS} ms`);
        else why = internal(`${nvme} ${args.join(' ')} failed: ${summarizeStderr(stderr.toString('utf8')) || `exit code ${String(e.code)}`}`);
        reject(why);
      },
    );
  });
}
