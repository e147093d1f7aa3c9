export { Operations, type OperationsOptions } from './operations.js';
export { defineOperation, differingFields, later, Later, type AnyOperation, type Handler, type Handlers, type OpContext, type Operation } from './operation.js';
export { Leases } from './leases.js';
export {
  failureOf,
  IN_FLIGHT_STATES,
  JOB_STATES,
  Jobs,
  toRecord,
  type JobPage,
  type JobRecord,
  type JobsOptions,
  type JobState,
  type ListOptions,
  type StoredJob,
} from './jobs.js';
