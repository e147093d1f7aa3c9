export * from './client.js';
export * from './errors.js';
export * from './limiter.js';
export * from './batcher.js';
export * from './ec2.js';
export * from './watcher.js';
export * from './env.js';
export * from './timing.js';
