export { Operations, type OpContext, type OpDefinition, type OperationsOptions } from './operations.js';
export { Leases } from './leases.js';
