import { describe, expect, it } from 'vitest';
import { isThrottle, isTransient, mapEc2Error } from './errors.js';

function ec2Error(code: string, status = 400, message = 'boom'): Error {
  return Object.assign(new Error(message), { name: code, Code: code, $metadata: { httpStatusCode: status } });
}

describe('EC2 error mapping', () => {
  it.each([
    ['InvalidVolume.NotFound', 'NotFound'],
    ['InvalidInstanceID.NotFound', 'NotFound'],
    ['VolumeInUse', 'FailedPrecondition'],
    ['IncorrectState', 'FailedPrecondition'],
    ['InvalidParameterValue', 'InvalidArgument'],
    ['AttachmentLimitExceeded', 'ResourceExhausted'],
    ['VolumeLimitExceeded', 'ResourceExhausted'],
    ['IdempotentParameterMismatch', 'AlreadyExists'],
  ])('%s becomes %s and names the resource', (code, kind) => {
    const mapped = mapEc2Error(ec2Error(code), 'AttachVolume', 'volume vol-1');
    expect(mapped.kind).toBe(kind);
    expect(mapped.message).toContain('vol-1');
  });

  it('treats throttling, 5xx and resets as transient, client errors not', () => {
    expect(isThrottle(ec2Error('RequestLimitExceeded', 503))).toBe(true);
    expect(isTransient(ec2Error('RequestLimitExceeded', 503))).toBe(true);
    expect(isTransient(ec2Error('InternalError', 500))).toBe(true);
    expect(isTransient(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(ec2Error('InvalidParameterValue', 400))).toBe(false);
  });

  it('maps an unknown failure to Internal without the raw message', () => {
    const mapped = mapEc2Error(ec2Error('WeirdThing', 400, 'stack at foo.js:1'), 'CreateVolume', 'volume pvc-1');
    expect(mapped.kind).toBe('Internal');
    expect(mapped.message).not.toContain('foo.js');
  });

  it('maps exhausted throttling to Unavailable', () => {
    expect(mapEc2Error(ec2Error('RequestLimitExceeded', 503), 'CreateVolume', 'volume pvc-1').kind).toBe('Unavailable');
  });
});
