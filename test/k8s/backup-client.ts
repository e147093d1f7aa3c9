/**
 * A backup tool's side of changed-block tracking, as Kubernetes defines it: find the driver's
 * SnapshotMetadataService object, get a ServiceAccount token for its audience, and call the
 * external-snapshot-metadata sidecar over TLS (its CA from the object). The sidecar's API is loaded at run time
 * from the release the e2e built (proto/schema.proto in the Go module cache), not copied into this repo.
 */
import { credentials, loadPackageDefinition, type ClientReadableStream, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Kube, KubeObject } from './kube.js';

interface BlockRange {
  offset: number;
  size: number;
}

export interface BlockMap {
  capacity: number;
  blocks: BlockRange[];
}

type Service = KubeObject & { spec: { address: string; caCert: string; audience: string } };
interface Page {
  volumeCapacityBytes: number;
  blockMetadata: { byteOffset: number; sizeBytes: number }[];
}
type Call = (req: Record<string, unknown>) => ClientReadableStream<Page>;
interface MetadataClient {
  getMetadataAllocated: Call;
  getMetadataDelta: Call;
  close(): void;
}

export interface BackupClient {
  /** The blocks of a VolumeSnapshot that hold data. */
  allocated(snapshotName: string): Promise<BlockMap>;
  /** The blocks that differ from the snapshot with CSI handle `baseSnapshotId` to the VolumeSnapshot `targetName`. */
  delta(baseSnapshotId: string, targetName: string): Promise<BlockMap>;
  close(): void;
}

export async function backupClient(o: {
  kube: Kube;
  proto: string;
  driver: string;
  namespace: string;
  /** The ServiceAccount the backup tool runs as. */
  serviceAccount: string;
  /** Another audience than the service's, to see the sidecar refuse the token. */
  audience?: string;
}): Promise<BackupClient> {
  const svc = await o.kube.get<Service>(`/apis/cbt.storage.k8s.io/v1alpha1/snapshotmetadataservices/${o.driver}`);
  const tr = await o.kube.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${o.namespace}/serviceaccounts/${o.serviceAccount}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { audiences: [o.audience ?? svc.spec.audience], expirationSeconds: 600 },
  });
  const def = loadSync(o.proto, { longs: Number, defaults: true });
  const Ctor = (loadPackageDefinition(def).snapshotmetadata as Record<string, ServiceClientConstructor>).SnapshotMetadata!;
  const client = new Ctor(svc.spec.address, credentials.createSsl(Buffer.from(svc.spec.caCert, 'base64'))) as unknown as MetadataClient;
  const common = { securityToken: tr.status.token, namespace: o.namespace, maxResults: 256 };
  const read = (call: ClientReadableStream<Page>): Promise<BlockMap> =>
    new Promise((resolve, reject) => {
      const map: BlockMap = { capacity: 0, blocks: [] };
      call.on('data', (p: Page) => {
        map.capacity = p.volumeCapacityBytes;
        for (const b of p.blockMetadata) map.blocks.push({ offset: b.byteOffset, size: b.sizeBytes });
      });
      call.on('error', reject);
      call.on('end', () => resolve(map));
    });
  return {
    allocated: (snapshotName) => read(client.getMetadataAllocated({ ...common, snapshotName })),
    delta: (baseSnapshotId, targetSnapshotName) => read(client.getMetadataDelta({ ...common, baseSnapshotId, targetSnapshotName })),
    close: () => client.close(),
  };
}
