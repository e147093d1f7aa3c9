/** Regenerates infra/kubernetes/base/plinth.yaml from the chart: `node --import tsx test/infra/render-base.ts`. */
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { BASE_FILE, REPO_ROOT, ensureHelm, renderBase } from './helm.js';

const helm = await ensureHelm();
await writeFile(BASE_FILE, await renderBase(helm));
console.log(`wrote ${relative(REPO_ROOT, BASE_FILE)}`);
