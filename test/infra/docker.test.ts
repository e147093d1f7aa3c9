/**
 * infra/docker: one multi-stage Dockerfile per app, building (scripts/bundle.mjs) the bundle the images run as
 * `node dist/<app>.mjs` on Node 24 LTS slim, and the chart naming the images those Dockerfiles are for.
 * (No Docker engine here: the files are checked, not built.)
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageArgs } from '../support/app.js';
import { loadYaml, path, readText } from './manifests.js';

const APPS = ['controller', 'node-agent', 'api'] as const;
const values = loadYaml<{ image: Record<string, string> }>('infra/helm/plinth/values.yaml');
const imageKey = { controller: 'controller', 'node-agent': 'nodeAgent', api: 'api' } as const;

/** Instructions with line continuations joined, comments dropped. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

describe.each(APPS)('infra/docker/%s.Dockerfile', (app) => {
  const file = `infra/docker/${app}.Dockerfile`;
  const text = readText(file);
  const lines = instructions(text);
  const froms = lines.filter((l) => l.startsWith('FROM '));

  it('is multi-stage on Node 24 LTS slim, the major the tests run on (.node-version)', () => {
    expect(lines.find((l) => l.startsWith('ARG NODE_IMAGE='))).toMatch(/^ARG NODE_IMAGE=node:24[\w.-]*-slim$/);
    expect(readText('.node-version').trim()).toMatch(/^24\.\d+\.\d+$/);
    expect(froms).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE}']);
  });

  it('installs with npm ci and bundles the app with the one bundling step the tests use (scripts/bundle.mjs)', () => {
    const build = lines.slice(0, lines.indexOf(froms[1]!));
    expect(build.some((l) => /^RUN .*npm ci\b/.test(l))).toBe(true);
    expect(build).toContain(`RUN node scripts/bundle.mjs --outdir /out ${app}`);
    expect(text).not.toContain('npx esbuild');
  });

  it('runs `node --max-semi-space-size=4 dist/<app>.mjs` with the app’s package.json where the app reads its version, as the tests do', () => {
    const runtime = lines.slice(lines.indexOf(froms[1]!));
    expect(runtime).toContain(`COPY --from=build /out/${app}/dist/${app}.mjs dist/${app}.mjs`);
    expect(runtime).toContain(`COPY --from=build /out/${app}/package.json package.json`);
    expect(runtime).toContain('WORKDIR /app');
    expect(runtime.at(-1)).toBe(`ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/${app}.mjs"]`);
    // What the tests and benchmarks run for "the bundle as the image runs it".
    expect(imageArgs(app)).toEqual(['--max-semi-space-size=4', `dist/${app}.mjs`]);
    expect(text).not.toMatch(/^\s*(ADD|COPY) .*node_modules\s*$/m);
  });

  it('has a Dockerfile-specific .dockerignore that keeps node_modules and local state out', () => {
    const ignore = readText(`${file}.dockerignore`);
    for (const p of ['**/node_modules', '.git', '.plinth']) expect(ignore.split('\n')).toContain(p);
  });

  it('is the image the chart deploys', () => {
    expect(values.image[imageKey[app]]).toBe(`plinth-${app}`);
  });
});

describe('the node agent image', () => {
  it('carries every tool the node agent runs', () => {
    const install = instructions(readText('infra/docker/node-agent.Dockerfile')).find((l) => l.includes('apt-get install'))!;
    const PROVIDES: Record<string, string> = {
      'mkfs.ext4': 'e2fsprogs',
      e2fsck: 'e2fsprogs',
      resize2fs: 'e2fsprogs',
      dumpe2fs: 'e2fsprogs',
      'mkfs.xfs': 'xfsprogs',
      xfs_growfs: 'xfsprogs',
      xfs_info: 'xfsprogs',
      blkid: 'util-linux',
      blockdev: 'util-linux',
      mount: 'mount',
      umount: 'mount',
    };
    const used = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(path(dir), { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${dir}/${e.name}`);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
          for (const m of readText(`${dir}/${e.name}`).matchAll(/'(mkfs\.[a-z0-9]+|[a-z0-9_]*(?:fs|fsck|blk|mount|blockdev|xfs)[a-z0-9_]*)'/g))
            if (m[1] && m[1] in PROVIDES) used.add(m[1]);
      }
    };
    walk('apps/node-agent/src');
    expect(used.size).toBeGreaterThanOrEqual(8);
    for (const tool of used) expect(install, `${tool} comes from ${PROVIDES[tool]}`).toMatch(new RegExp(`\\b${PROVIDES[tool]}\\b`));
    expect(install).toContain('nvme-cli');
    expect(install).toContain('--no-install-recommends');
  });

  it('is the only one running as root (the controller and API images drop to a non-root uid)', () => {
    expect(readText('infra/docker/node-agent.Dockerfile')).not.toMatch(/^USER /m);
    for (const app of ['controller', 'api']) expect(readText(`infra/docker/${app}.Dockerfile`)).toMatch(/^USER 65532:65532$/m);
  });
});
