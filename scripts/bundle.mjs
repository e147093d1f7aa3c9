#!/usr/bin/env node
// The one bundling step: what the images run, and what bench, chaos, csi-sanity and the Kubernetes e2e run.
//   node scripts/bundle.mjs [--outdir DIR] [app ...]     (default: every app, into .plinth/bundles)
// Each app becomes DIR/<app>/dist/<app>.mjs beside DIR/<app>/package.json (where the app reads its version),
// the same layout as /app in the image.
// - ESM entries first (main fields module,main): @aws-sdk/client-ec2's ESM build tree-shakes; its CommonJS
//   entry carries every EC2 shape (about 2 MB more code and 50 MB more heap).
// - Minified, with names kept (error classes and pino's bindings stay readable).
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/util.mjs';

export const APPS = ['controller', 'node-agent', 'api'];

/** The esbuild options of one app's bundle. */
export function bundleOptions(app, outfile) {
  return {
    entryPoints: [join(ROOT, 'apps', app, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // 'module' as esbuild has it by default: exports maps list it before 'node' (e.g. @smithy/core's submodules).
    conditions: ['plinth-src', 'module'],
    mainFields: ['module', 'main'],
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    // Bundled CommonJS code still calls require and reads __filename / __dirname.
    banner: {
      js: [
        "import { createRequire as __plinthRequire } from 'node:module';",
        "import { fileURLToPath as __plinthPath } from 'node:url';",
        'const require = __plinthRequire(import.meta.url);',
        'const __filename = __plinthPath(import.meta.url);',
        "const __dirname = __plinthPath(new URL('.', import.meta.url));",
      ].join(' '),
    },
  };
}

/** Bundles `apps` into `outdir`; returns each app's entry file. */
export async function bundle(outdir, apps = APPS) {
  const { build } = await import('esbuild');
  const entries = {};
  await Promise.all(
    apps.map(async (app) => {
      const dir = join(outdir, app);
      mkdirSync(join(dir, 'dist'), { recursive: true });
      copyFileSync(join(ROOT, 'apps', app, 'package.json'), join(dir, 'package.json'));
      entries[app] = join(dir, 'dist', `${app}.mjs`);
      const { metafile } = await build(bundleOptions(app, entries[app]));
      // The guard for the main fields: a CommonJS build of the AWS SDK in the bundle is the 2 MB one.
      const cjs = Object.keys(metafile.inputs).filter((f) => /node_modules\/@(aws-sdk|smithy)\/[^/]+\/dist-cjs\//.test(f));
      if (cjs.length > 0) throw new Error(`${app}: the bundle took CommonJS builds of the AWS SDK: ${cjs.slice(0, 3).join(', ')}`);
    }),
  );
  return entries;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ options: { outdir: { type: 'string' } }, allowPositionals: true });
  const unknown = positionals.filter((a) => !APPS.includes(a));
  if (unknown.length > 0) {
    console.error(`unknown app ${unknown.join(', ')}; the apps are ${APPS.join(', ')}`);
    process.exit(2);
  }
  const outdir = resolve(values.outdir ?? join(ROOT, '.plinth', 'bundles'));
  const started = Date.now();
  const entries = await bundle(outdir, positionals.length > 0 ? positionals : APPS);
  console.log(`bundled ${Object.keys(entries).join(', ')} into ${outdir} in ${Date.now() - started} ms`);
}
