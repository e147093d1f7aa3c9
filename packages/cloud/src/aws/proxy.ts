import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';

/** The proxy settings of the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; lower case too, as curl reads them). */
export interface ProxyEnv {
  httpsProxy?: string | undefined;
  httpProxy?: string | undefined;
  noProxy?: string | undefined;
}

export function proxyEnv(env: NodeJS.ProcessEnv = process.env): ProxyEnv {
  return {
    httpsProxy: env.HTTPS_PROXY || env.https_proxy || undefined,
    httpProxy: env.HTTP_PROXY || env.http_proxy || undefined,
    noProxy: env.NO_PROXY || env.no_proxy || undefined,
  };
}

/**
 * Whether NO_PROXY exempts `host` (and `port`): entries are comma-separated
 * host names, matched as the name itself or any subdomain (a leading dot or
 * `*.` is the same), IP addresses, `host:port`, or `*` for every host.
 */
export function bypassesProxy(noProxy: string | undefined, host: string, port: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  for (const raw of (noProxy ?? '').split(',')) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\](?=:|$)/g, ''));
    if (m?.[2] && m[2] !== port) continue;
    entry = (m?.[1] ?? entry).replace(/^\*?\./, '');
    if (h === entry || h.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/**
 * The SDK request handler for `endpoint` (the region's EC2 endpoint when
 * unset) through the environment's proxy: HTTPS_PROXY for an https endpoint
 * (a CONNECT tunnel), HTTP_PROXY for an http one; undefined when no proxy
 * applies (NO_PROXY, or none set), so the SDK's default handler is used.
 */
export function proxyHandler(endpoint: string, env: ProxyEnv = proxyEnv()): NodeHttpHandler | undefined {
  const url = new URL(endpoint);
  const https = url.protocol === 'https:';
  const proxy = https ? env.httpsProxy : (env.httpProxy ?? env.httpsProxy);
  if (!proxy || bypassesProxy(env.noProxy, url.hostname, url.port || (https ? '443' : '80'))) return undefined;
  const agent = https
    ? { httpsAgent: new HttpsProxyAgent(proxy, { keepAlive: true }) as HttpsAgent }
    : { httpAgent: new HttpProxyAgent(proxy, { keepAlive: true }) as HttpAgent };
  return new NodeHttpHandler({ ...agent, connectionTimeout: 10_000 });
}
