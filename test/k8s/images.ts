/**
 * The e2e's Pod images, made here from Debian's busybox-static (nothing is pulled from a registry): one OCI
 * image archive per image (an OCI layout in a tar: `oci-layout`, `index.json`, `blobs/sha256/…`) with a single
 * uncompressed layer holding /bin/busybox and a link per applet, for `ctr images import`.
 *
 * - `busybox`: the Pods' image (sh, dd, sha256sum, df, …), Cmd /bin/sh;
 * - `pause`: the sandbox image containerd's CRI pins, Cmd `sleep` for ever (containerd stops a sandbox with SIGKILL).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const BUSYBOX = '/bin/busybox';
export const IMAGES = { busybox: 'registry.local/plinth-e2e/busybox:1', pause: 'registry.local/plinth-e2e/pause:1' } as const;

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

async function blob(dir: string, data: Buffer | string): Promise<{ digest: string; size: number }> {
  const hex = sha256(data);
  await writeFile(join(dir, 'blobs', 'sha256', hex), data);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
}

/** Writes `<dir>/<name>.tar` for each image and returns their paths. */
export async function buildImages(dir: string): Promise<Record<keyof typeof IMAGES, string>> {
  const rootfs = join(dir, 'rootfs');
  await rm(rootfs, { recursive: true, force: true });
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['tmp', 'data', 'etc', 'proc', 'sys', 'dev']) await mkdir(join(rootfs, d), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  const applets = (await exec(BUSYBOX, ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) await symlink('busybox', join(rootfs, 'bin', a));
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\n');
  const layerTar = join(dir, 'layer.tar');
  await exec('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '--mtime=@0', '-C', rootfs, '-cf', layerTar, '.'], { timeout: 60_000 });
  const layer = await readFile(layerTar);

  const out = {} as Record<keyof typeof IMAGES, string>;
  for (const [name, ref] of Object.entries(IMAGES) as [keyof typeof IMAGES, string][]) {
    const layout = join(dir, `${name}-layout`);
    await rm(layout, { recursive: true, force: true });
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    const layerBlob = await blob(layout, layer);
    const config = {
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: name === 'pause' ? ['/bin/sleep', '2147483647'] : ['/bin/sh'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [layerBlob.digest] },
    };
    const configBlob = await blob(layout, JSON.stringify(config));
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerBlob }],
    };
    const manifestBlob = await blob(layout, JSON.stringify(manifest));
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifestBlob,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref.split(':').pop() ?? '1' },
        },
      ],
    };
    await writeFile(join(layout, 'index.json'), JSON.stringify(index));
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const tar = join(dir, `${name}.tar`);
    await exec('tar', ['-C', layout, '-cf', tar, 'oci-layout', 'index.json', 'blobs'], { timeout: 60_000 });
    out[name] = tar;
  }
  return out;
}
