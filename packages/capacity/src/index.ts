export * from './types.js';
export * from './compute.js';
export * from './cluster.js';
export * from './reader.js';
export * from './env.js';
