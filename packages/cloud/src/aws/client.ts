import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { proxyEnv, proxyHandler, type ProxyEnv } from './proxy.js';

export interface Ec2Settings {
  region: string;
  /** Custom endpoint (LocalStack, moto, the fault proxy). Unset means the real EC2 endpoint for the region. */
  endpoint?: string | undefined;
  /** SDK-level attempts per call; Plinth's own retry layer sits above this. */
  maxAttempts?: number;
  /** HTTPS_PROXY/HTTP_PROXY/NO_PROXY (default: the process environment, as the chart's proxy values set them). */
  proxy?: ProxyEnv;
}

/**
 * The one way Plinth builds an EC2 client. Credentials come from the SDK's
 * default chain (env, web identity/IRSA, instance profile); they are never
 * logged. Requests go through HTTPS_PROXY (HTTP_PROXY for an http endpoint)
 * unless NO_PROXY exempts the endpoint's host; the SDK does not read these
 * variables itself.
 */
export function createEc2Client(s: Ec2Settings): EC2Client {
  const cfg: EC2ClientConfig = { region: s.region, maxAttempts: s.maxAttempts ?? 1 };
  if (s.endpoint) cfg.endpoint = s.endpoint;
  const handler = proxyHandler(s.endpoint ?? `https://ec2.${s.region}.amazonaws.com`, s.proxy ?? proxyEnv());
  if (handler) cfg.requestHandler = handler;
  return new EC2Client(cfg);
}
