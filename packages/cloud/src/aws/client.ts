import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';

export interface Ec2Settings {
  region: string;
  /** Custom endpoint (LocalStack, moto, the fault proxy). Unset means the real EC2 endpoint for the region. */
  endpoint?: string | undefined;
  /** SDK-level attempts per call; Plinth's own retry layer sits above this. */
  maxAttempts?: number;
}

/**
 * The one way Plinth builds an EC2 client. Credentials come from the SDK's
 * default chain (env, web identity/IRSA, instance profile); they are never
 * logged.
 */
export function createEc2Client(s: Ec2Settings): EC2Client {
  const cfg: EC2ClientConfig = { region: s.region, maxAttempts: s.maxAttempts ?? 1 };
  if (s.endpoint) cfg.endpoint = s.endpoint;
  return new EC2Client(cfg);
}
