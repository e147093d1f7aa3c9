// @plinth/cloud: Plinth's one EC2 boundary. Only this package imports the AWS SDK;
// everything else uses the Cloud interface and the domain types below.
export * from './types.js';
export * from './cloud.js';
export { createAwsCloud, type AwsCloudOptions } from './aws/cloud.js';
export * from './tags.js';
export * from './ids.js';
export * from './volume-types.js';
export { causeCode } from './errors.js';
export type { CallOutcome, Ec2Observer, Ec2Options } from './call.js';
export * from './limiter.js';
export * from './env.js';
export * from './metrics.js';
export * from './batcher.js';
export * from './watcher.js';
export * from './timing.js';
export * from './attach-limits.js';
export * from './snapshot-blocks.js';
export { createAwsSnapshotBlocks, type EbsSettings } from './aws/ebs.js';
