export { Operations, type OperationsOptions } from './operations.js';
export { defineOperation, differingFields, type AnyOperation, type Handler, type Handlers, type OpContext, type Operation } from './operation.js';
export { Leases } from './leases.js';
