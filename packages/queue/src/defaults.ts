/** The queue Plinth's operations run on, and the Redis key prefix of its records: shared by Operations (writer) and Jobs (reader). */
export const DEFAULT_QUEUE_NAME = 'plinth-ops';
export const DEFAULT_PREFIX = 'plinth';
