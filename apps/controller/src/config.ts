import { envBool, envInt, hostPort, logLevel, parseEnv, sharedEnv, splitHostPort, z } from '@plinth/config';
import { ec2RateLimitsEnv } from '@plinth/cloud';
import { quotaOverridesEnv } from '@plinth/capacity';
import { alwaysCheck, redisEnv, refineRedisEnv } from '@plinth/redis';
import { parseExtraTags } from './params/tags.js';
import { DEFAULT_STUCK_ATTACH_MS } from './ops/publish-stuck.js';

const endpoint = z
  .string()
  .regex(/^unix:\/\/\/.+/, 'expected unix:///absolute/path.sock')
  .default('unix:///var/lib/csi/sockets/pluginproxy/csi.sock');

/** Every setting of the controller, from the environment, validated once at start. */
export const controllerEnv = z
  .object({
    CSI_ENDPOINT: endpoint,
    ...sharedEnv,
    ...redisEnv,
    DEFAULT_ZONE: z.string().optional(),
    DEFAULT_VOLUME_SIZE_GIB: envInt(100, { min: 1, max: 65536 }),
    /** The EBS direct APIs' endpoint (changed-block tracking); unset: ebs.<region>.amazonaws.com. Tests point it at the emulated Nitro host. */
    EBS_ENDPOINT: z.url().optional(),
    EC2_RATE_LIMITS: ec2RateLimitsEnv,
    EC2_RATE_LIMIT_DISABLED: envBool(false),
    EC2_POLL_INTERVAL_MS: envInt(1000, { min: 50, max: 60_000 }),
    EC2_RETRY_BUDGET_MS: envInt(60_000, { min: 0, max: 3_600_000 }),
    QUEUE_CONCURRENCY: envInt(200, { min: 1, max: 10_000 }),
    QUEUE_LOCK_MS: envInt(15_000, { min: 1000, max: 600_000 }),
    QUEUE_ATTEMPTS: envInt(5, { min: 1, max: 100 }),
    OPERATION_TIMEOUT_MS: envInt(600_000, { min: 1000 }),
    /** An attachment still `attaching` this long is force-detached and attached again (aws-ebs-csi-driver: 90 s). */
    STUCK_ATTACH_TIMEOUT_MS: envInt(DEFAULT_STUCK_ATTACH_MS, { min: 1000, max: 3_600_000 }),
    /** How long a volume's modify job waits for more resize/modify requests to fold into its one ModifyVolume. */
    MODIFY_COALESCE_WINDOW_MS: envInt(2000, { min: 0, max: 60_000 }),
    SHUTDOWN_GRACE_MS: envInt(20_000, { min: 0 }),
    /** host:port or [::1]:port; handed to metrics.serve as "host:port" without brackets (it splits at the last colon). */
    METRICS_ADDRESS: hostPort()
      .optional()
      .transform((v) => {
        const parts = v === undefined ? undefined : splitHostPort(v);
        return parts && `${parts.host}:${parts.port}`;
      }),
    /** Per-type EBS storage quota overrides in GiB for GetCapacity, as the admin API spells them. */
    CAPACITY_QUOTAS_GIB: quotaOverridesEnv,
    /** How long GetCapacity reuses this cluster's provisioned totals. */
    CAPACITY_CACHE_TTL_MS: envInt(10_000, { min: 0, max: 600_000 }),
    LOG_LEVEL: logLevel,
    /** aws-ebs-csi-driver's --k8s-tag-cluster-id: tags kubernetes.io/cluster/<id>=owned, ebs.csi.aws.com/cluster-name=<id>, KubernetesCluster=<id>. */
    K8S_TAG_CLUSTER_ID: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'expected a cluster name (letters, digits, . _ -)')
      .optional(),
    /**
     * aws-ebs-csi-driver's --enable-node-local-volumes (chart controller.enableNodeLocalVolumes): ControllerPublish of a
     * `local-ebs://dev/<name>` handle answers the EBS volume pre-attached at that device on the node. Off: refused.
     */
    ENABLE_NODE_LOCAL_VOLUMES: envBool(false),
    /** aws-ebs-csi-driver's --extra-tags: "key=value,key=value" on every volume and snapshot (a class's own tags win). */
    EXTRA_TAGS: z
      .string()
      .default('')
      .transform((v, ctx) => {
        try {
          return parseExtraTags(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
  })
  .superRefine((c, ctx) => refineRedisEnv(c, ctx), alwaysCheck);

export type ControllerConfig = z.infer<typeof controllerEnv>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  return parseEnv(controllerEnv, env);
}
