#!/usr/bin/env node
// Regenerates the committed bindings in packages/csi/src/gen from proto/: the CSI spec (csi.proto) and the
// kubelet's plugin-registration API (pluginregistration.proto, served by the node agent's built-in registration).
// Needs `protoc` with the well-known types (Debian: protobuf-compiler libprotobuf-dev).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'packages/csi/src/gen');
const include = ['/usr/include', '/usr/local/include'].find((d) => existsSync(join(d, 'google/protobuf/descriptor.proto')));
if (!include) {
  console.error('protoc well-known types not found: apt-get install protobuf-compiler libprotobuf-dev');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
execFileSync(
  'protoc',
  [
    `--plugin=protoc-gen-ts_proto=${join(root, 'node_modules/.bin/protoc-gen-ts_proto')}`,
    `--ts_proto_out=${out}`,
    '--ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,importSuffix=.js,env=node,forceLong=number,useDate=true',
    `-I${join(root, 'proto')}`,
    `-I${include}`,
    join(root, 'proto/csi.proto'),
    join(root, 'proto/pluginregistration.proto'),
  ],
  { stdio: 'inherit', timeout: 60_000 },
);
console.log(`generated ${out}`);
