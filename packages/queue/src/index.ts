export { Operations, type OpContext, type OpDefinition, type OperationsOptions } from './operations.js';
export { Leases } from './leases.js';
export { failureOf, IN_FLIGHT_STATES, JOB_STATES, Jobs, toRecord, type JobPage, type JobRecord, type JobsOptions, type JobState, type ListOptions, type StoredJob } from './jobs.js';
