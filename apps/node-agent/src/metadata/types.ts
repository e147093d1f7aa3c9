/** What a metadata source knows about this node. */
export interface NodeMetadata {
  source: string;
  instanceId: string;
  zone: string;
  /** Not every source knows it; EC2 DescribeInstances fills it in then. */
  instanceType?: string | undefined;
}

/** A source either answers or says why not (never throws for "not available here"). */
export type SourceResult = { ok: NodeMetadata } | { skipped: string };
