import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEc2Client } from './client.js';
import { bypassesProxy, proxyEnv, proxyHandler } from './proxy.js';

const ZONES = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>1</requestId>
  <availabilityZoneInfo><item><zoneName>us-east-1a</zoneName><zoneId>use1-az1</zoneId><zoneState>available</zoneState></item></availabilityZoneInfo>
</DescribeAvailabilityZonesResponse>`;

/** A forward proxy that records what it is asked: plain requests (answered as EC2 would) and CONNECT tunnels (refused). */
let proxy: Server;
let proxyUrl = '';
const seen: string[] = [];

const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
beforeAll(async () => {
  // The SDK signs before it sends: any static credentials do.
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  proxy = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/xml' }).end(ZONES);
  });
  proxy.on('connect', (req, socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => {
  proxy.close();
  for (const [k, v] of [
    ['AWS_ACCESS_KEY_ID', saved.id],
    ['AWS_SECRET_ACCESS_KEY', saved.secret],
  ] as const)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

describe("the EC2 client honours the chart's proxy settings", () => {
  it('sends EC2 calls through HTTP_PROXY to an http endpoint', async () => {
    seen.length = 0;
    const ec2 = createEc2Client({ region: 'us-east-1', endpoint: 'http://ec2.example.test:4566', proxy: { httpProxy: proxyUrl } });
    const res = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(res.AvailabilityZones?.map((z) => z.ZoneName)).toEqual(['us-east-1a']);
    expect(seen).toEqual(['POST http://ec2.example.test:4566/']);
  });

  it("tunnels through HTTPS_PROXY to the region's real endpoint", async () => {
    seen.length = 0;
    const ec2 = createEc2Client({ region: 'eu-west-1', proxy: { httpsProxy: proxyUrl }, maxAttempts: 1 });
    await expect(ec2.send(new DescribeAvailabilityZonesCommand({}))).rejects.toThrow();
    expect(seen).toEqual(['CONNECT ec2.eu-west-1.amazonaws.com:443']);
  });

  it('goes direct where NO_PROXY exempts the host, or no proxy is set', () => {
    expect(proxyHandler('https://ec2.us-east-1.amazonaws.com', { httpsProxy: proxyUrl, noProxy: 'localhost,.amazonaws.com' })).toBeUndefined();
    expect(proxyHandler('http://127.0.0.1:4566', { httpProxy: proxyUrl, noProxy: '127.0.0.1' })).toBeUndefined();
    expect(proxyHandler('https://ec2.us-east-1.amazonaws.com', {})).toBeUndefined();
    expect(proxyHandler('https://ec2.us-east-1.amazonaws.com', { httpsProxy: proxyUrl, noProxy: 'example.com' })).toBeDefined();
  });

  it('reads NO_PROXY as curl does: subdomains, leading dots and *., ports, *', () => {
    expect(bypassesProxy('amazonaws.com', 'ec2.us-east-1.amazonaws.com', '443')).toBe(true);
    expect(bypassesProxy('*.amazonaws.com', 'ec2.us-east-1.amazonaws.com', '443')).toBe(true);
    expect(bypassesProxy('.amazonaws.com', 'amazonaws.com', '443')).toBe(true);
    expect(bypassesProxy('zonaws.com', 'ec2.amazonaws.com', '443')).toBe(false);
    expect(bypassesProxy('localstack:4566', 'localstack', '4566')).toBe(true);
    expect(bypassesProxy('localstack:4566', 'localstack', '443')).toBe(false);
    expect(bypassesProxy('*', 'anything', '80')).toBe(true);
    expect(bypassesProxy(undefined, 'anything', '80')).toBe(false);
    expect(proxyEnv({ https_proxy: 'http://p:3128', NO_PROXY: 'x' })).toEqual({ httpsProxy: 'http://p:3128', httpProxy: undefined, noProxy: 'x' });
  });
});
