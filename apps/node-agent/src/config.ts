import { ec2RateLimitsEnv } from '@plinth/cloud';
import { csiDriverName, envBool, envInt, hostPort, logLevel, parseEnv, splitHostPort, z } from '@plinth/config';
import { alwaysCheck, redisEnv, refineRedisEnv } from '@plinth/redis';

const METADATA_SOURCE_NAMES = ['imds', 'kubernetes', 'env'] as const;
type MetadataSourceName = (typeof METADATA_SOURCE_NAMES)[number];

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const absPath = (def: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const p = v === undefined || v === '' ? def : v;
      if (!p.startsWith('/')) {
        ctx.addIssue({ code: 'custom', message: `expected an absolute path, got "${p}"` });
        return z.NEVER;
      }
      return p.length > 1 ? p.replace(/\/+$/, '') : p;
    });

/** host:port, or :port for every interface; unset or empty: off. */
const metricsAddress = z
  .union([z.literal('').transform(() => undefined), hostPort({ allowEmptyHost: true })])
  .optional()
  .transform((v) => {
    const parts = v === undefined ? undefined : splitHostPort(v, { allowEmptyHost: true });
    return parts && { host: parts.host || '0.0.0.0', port: parts.port };
  });

/** How long the preStop hook waits at most; below the pod's terminationGracePeriodSeconds, which bounds it anyway. */
const preStopTimeout = envInt(25_000, { min: 0, max: 3_600_000 });

export const configSchema = z
  .object({
    CSI_ENDPOINT: z
      .string()
      .default('unix:///csi/csi.sock')
      .refine((v) => /^unix:\/\/\/.+/.test(v) || v.startsWith('/'), 'expected unix:///path/to/socket'),
    PLINTH_DRIVER_NAME: csiDriverName,
    NODE_ID: optional,
    NODE_ZONE: optional,
    NODE_INSTANCE_TYPE: optional,
    IMDS_ENDPOINT: z.url().default('http://169.254.169.254'),
    IMDS_DISABLED: envBool(false),
    IMDS_TIMEOUT_MS: envInt(1000, { min: 50, max: 60_000 }),
    KUBE_NODE_NAME: optional,
    /** Remove the `<driver>/agent-not-ready` startup taint from KUBE_NODE_NAME once the kubelet registered the driver. */
    STARTUP_TAINT_REMOVAL: envBool(true),
    /**
     * Built-in kubelet registration: the kubelet's plugin-registration directory (`<kubelet>/plugins_registry` as
     * mounted here). Set, the agent registers itself with the kubelet (node-driver-registrar's job); unset, off.
     */
    REGISTRATION_DIR: optional.refine((v) => v === undefined || v.startsWith('/'), 'expected an absolute path'),
    /** The CSI socket as the kubelet sees it on the host (default `<KUBELET_ROOT>/plugins/<driver>/csi.sock`). */
    DRIVER_REG_SOCK_PATH: optional.refine((v) => v === undefined || v.startsWith('/'), 'expected an absolute path'),
    METADATA_SOURCES: z
      .string()
      .default('imds,kubernetes,env')
      .transform((v, ctx) => {
        const list = v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const bad = list.filter((s) => !(METADATA_SOURCE_NAMES as readonly string[]).includes(s));
        if (bad.length > 0 || list.length === 0) {
          ctx.addIssue({ code: 'custom', message: `expected a comma list of ${METADATA_SOURCE_NAMES.join(', ')}; got "${v}"` });
          return z.NEVER;
        }
        return [...new Set(list)] as MetadataSourceName[];
      }),
    KUBELET_ROOT: absPath('/var/lib/kubelet'),
    SYSFS_ROOT: absPath('/sys'),
    DEV_ROOT: absPath('/dev'),
    /** nvme-cli's `nvme` (a name on PATH or a path), run for each volume's EBS log page when metrics are scraped. */
    NVME_CLI: z
      .string()
      .optional()
      .transform((v) => v?.trim() || 'nvme'),
    DEVICE_WAIT_MS: envInt(20_000, { min: 0, max: 600_000 }),
    /** Bound of one I/O heartbeat read in NodeGetVolumeHealth / NodeGetStorageHealth. */
    HEALTH_IO_TIMEOUT_MS: envInt(5_000, { min: 100, max: 120_000 }),
    MAX_VOLUMES_PER_NODE: envInt(0, { min: 1, max: 1000 }).transform((n) => (n === 0 ? undefined : n)),
    ...redisEnv,
    /** Read by the `pre-stop` subcommand (the DaemonSet's preStop hook). */
    PRE_STOP_TIMEOUT_MS: preStopTimeout,
    HEARTBEAT_INTERVAL_MS: envInt(10_000, { min: 100, max: 600_000 }),
    EC2_ENDPOINT: optional,
    /** The EC2 rate-limit buckets shared through Redis (as the controller's EC2_RATE_LIMITS). */
    EC2_RATE_LIMITS: ec2RateLimitsEnv,
    AWS_REGION: optional,
    METRICS_ADDRESS: metricsAddress,
    /** Built-in liveness endpoint (`GET /healthz`, Probe through the CSI socket), e.g. `:9808`; unset, off. */
    HEALTHZ_ADDRESS: metricsAddress,
    LOG_LEVEL: logLevel,
  })
  .superRefine((c, ctx) => refineRedisEnv(c, ctx, { required: false }), alwaysCheck);

export type Config = z.infer<typeof configSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnv(configSchema, env);
}

/** The preStop hook's settings (`pre-stop` subcommand): the node, the driver, and how long to wait at most. */
export const preStopSchema = z.object({
  KUBE_NODE_NAME: z.string().min(1, 'KUBE_NODE_NAME is required for pre-stop (the downward API spec.nodeName)'),
  PLINTH_DRIVER_NAME: csiDriverName,
  PRE_STOP_TIMEOUT_MS: preStopTimeout,
  LOG_LEVEL: logLevel,
});

export function loadPreStopConfig(env: NodeJS.ProcessEnv = process.env): z.infer<typeof preStopSchema> {
  return parseEnv(preStopSchema, env);
}
