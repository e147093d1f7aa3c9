/**
 * plinthctl: drive a Plinth controller's CSI socket by hand.
 *   plinthctl [--endpoint unix:///path.sock] <command> [args]
 * Commands: info | probe | caps | create <name> [--size GiB] [--zone Z] [--param k=v]… [--block]
 *           publish <volumeId> <nodeId> | unpublish <volumeId> <nodeId> | delete <volumeId> | validate <volumeId>
 */
import { parseArgs } from 'node:util';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { callUnary, ControllerClient, IdentityClient, VolumeCapability_AccessMode_Mode as Mode, type VolumeCapability } from '@plinth/csi';

const USAGE = `usage: plinthctl [--endpoint unix:///path.sock] <command>
  info                         plugin name and version
  probe                        readiness (Redis and EC2 reachable)
  caps                         controller capabilities
  create <name> [--size GiB] [--zone ZONE] [--param key=value]... [--block]
  publish <volumeId> <nodeId>  attach; prints the device path
  unpublish <volumeId> <nodeId>
  delete <volumeId>
  validate <volumeId> [--block]
The endpoint defaults to $CSI_ENDPOINT.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    endpoint: { type: 'string', default: process.env.CSI_ENDPOINT },
    size: { type: 'string', default: '1' },
    zone: { type: 'string' },
    param: { type: 'string', multiple: true, default: [] },
    block: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '120' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function fail(msg: string): never {
  console.error(msg);
  process.exit(2);
}

const [cmd, ...args] = positionals;
if (values.help || !cmd) {
  console.log(USAGE);
  process.exit(cmd ? 0 : 2);
}
if (!values.endpoint) fail('no endpoint: pass --endpoint unix:///path.sock or set CSI_ENDPOINT');
const address = values.endpoint.startsWith('unix://') ? values.endpoint : `unix://${values.endpoint}`;
const controller = new ControllerClient(address, credentials.createInsecure());
const identity = new IdentityClient(address, credentials.createInsecure());
const opts = { timeoutMs: Number(values.timeout) * 1000 };

const capability = (): VolumeCapability => ({
  accessMode: { mode: Mode.SINGLE_NODE_WRITER },
  ...(values.block ? { block: {} } : { mount: { fsType: 'ext4', mountFlags: [], volumeMountGroup: '' } }),
});

function need(n: number, what: string): string[] {
  if (args.length < n) fail(`${cmd} needs ${what}\n\n${USAGE}`);
  return args;
}

async function run(): Promise<unknown> {
  switch (cmd) {
    case 'info':
      return callUnary(identity, 'getPluginInfo', {}, opts);
    case 'probe':
      return callUnary(identity, 'probe', {}, opts);
    case 'caps':
      return callUnary(controller, 'controllerGetCapabilities', {}, opts);
    case 'create': {
      const [name] = need(1, '<name>');
      const parameters = Object.fromEntries(
        (values.param ?? []).map((p) => {
          const i = p.indexOf('=');
          if (i <= 0) fail(`--param takes key=value, got "${p}"`);
          return [p.slice(0, i), p.slice(i + 1)];
        }),
      );
      const bytes = Number(values.size) * 1024 ** 3;
      const zone = values.zone;
      return callUnary(
        controller,
        'createVolume',
        {
          name: name!,
          capacityRange: { requiredBytes: bytes, limitBytes: 0 },
          volumeCapabilities: [capability()],
          parameters,
          secrets: {},
          volumeContentSource: undefined,
          accessibilityRequirements: zone ? { requisite: [{ segments: { 'topology.kubernetes.io/zone': zone } }], preferred: [] } : undefined,
          mutableParameters: {},
        },
        opts,
      );
    }
    case 'publish': {
      const [volumeId, nodeId] = need(2, '<volumeId> <nodeId>');
      return callUnary(
        controller,
        'controllerPublishVolume',
        { volumeId: volumeId!, nodeId: nodeId!, volumeCapability: capability(), readonly: false, secrets: {}, volumeContext: {} },
        opts,
      );
    }
    case 'unpublish': {
      const [volumeId, nodeId] = need(2, '<volumeId> <nodeId>');
      return callUnary(controller, 'controllerUnpublishVolume', { volumeId: volumeId!, nodeId: nodeId!, secrets: {} }, opts);
    }
    case 'delete': {
      const [volumeId] = need(1, '<volumeId>');
      return callUnary(controller, 'deleteVolume', { volumeId: volumeId!, secrets: {} }, opts);
    }
    case 'validate': {
      const [volumeId] = need(1, '<volumeId>');
      return callUnary(
        controller,
        'validateVolumeCapabilities',
        { volumeId: volumeId!, volumeCapabilities: [capability()], volumeContext: {}, parameters: {}, secrets: {}, mutableParameters: {} },
        opts,
      );
    }
    default:
      fail(`unknown command "${cmd}"\n\n${USAGE}`);
  }
}

try {
  console.log(JSON.stringify(await run(), null, 2));
  process.exit(0);
} catch (err) {
  const e = err as ServiceError;
  console.error(`error: ${e.code !== undefined ? `${codeName(e.code)}: ` : ''}${e.details ?? e.message}`);
  process.exit(1);
}

function codeName(code: number): string {
  const names = [
    'OK',
    'CANCELLED',
    'UNKNOWN',
    'INVALID_ARGUMENT',
    'DEADLINE_EXCEEDED',
    'NOT_FOUND',
    'ALREADY_EXISTS',
    'PERMISSION_DENIED',
    'RESOURCE_EXHAUSTED',
    'FAILED_PRECONDITION',
    'ABORTED',
    'OUT_OF_RANGE',
    'UNIMPLEMENTED',
    'INTERNAL',
    'UNAVAILABLE',
    'DATA_LOSS',
    'UNAUTHENTICATED',
  ];
  return names[code] ?? String(code);
}
