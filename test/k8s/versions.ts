/** The one pin list (infra/versions.json): what the Kubernetes e2e builds and what the Helm chart's image tags name. */
import { readFileSync } from 'node:fs';

interface SidecarPin {
  module: string;
  version: string;
  /** The values.yaml path of the chart's `{repository, tag}` for this sidecar (none: the chart does not ship it). */
  chart?: string;
  /**
   * Why the e2e does not build it (absent: it does). The chart still ships it at `version`; the e2e runs the
   * chart's alternative instead (docs/kubernetes.md, "What is not covered").
   */
  notBuilt?: string;
}
export interface Pins {
  kubernetes: string;
  etcd: string;
  containerd: string;
  sidecars: Record<
    | 'csi-provisioner'
    | 'csi-attacher'
    | 'csi-resizer'
    | 'csi-snapshotter'
    | 'snapshot-controller'
    | 'csi-snapshot-metadata'
    | 'csi-node-driver-registrar'
    | 'livenessprobe',
    SidecarPin
  >;
}

const VERSIONS_FILE = new URL('../../infra/versions.json', import.meta.url);
export const PINS = JSON.parse(readFileSync(VERSIONS_FILE, 'utf8')) as Pins;
