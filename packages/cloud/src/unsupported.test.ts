import { describe, expect, it } from 'vitest';
import { isUnsupportedAction } from './errors.js';

const awsError = (name: string, status: number, message = '') => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('an EC2 action the endpoint does not offer', () => {
  it('is recognised as AWS and LocalStack report it', () => {
    expect(isUnsupportedAction(awsError('InvalidAction', 400, 'The action CopyVolumes is not valid for this web service.'))).toBe(true);
    expect(isUnsupportedAction(awsError('UnsupportedOperation', 400))).toBe(true);
    expect(isUnsupportedAction(awsError('InternalFailure', 501, 'The copy_volumes action has not been implemented'))).toBe(true);
  });

  it('is not confused with failures worth retrying or reporting', () => {
    expect(isUnsupportedAction(awsError('InternalError', 500, 'An internal error has occurred'))).toBe(false);
    expect(isUnsupportedAction(awsError('RequestLimitExceeded', 503))).toBe(false);
    expect(isUnsupportedAction(awsError('InvalidParameterValue', 400, 'Size is too small'))).toBe(false);
  });
});
