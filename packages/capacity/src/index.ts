export * from './types.js';
export * from './compute.js';
export * from './cluster.js';
