/**
 * The EC2 fault proxy as a process:
 *   node --import tsx test/fault-proxy/main.ts --upstream http://127.0.0.1:4566 [--port 4570] [--config faults.json] [--ec2-like]
 * Prints its endpoint; configure it live with POST /__proxy/config, read counts from GET /__proxy/stats.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EC2_LIKE, startFaultProxy, type FaultConfig } from './proxy.js';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    port: { type: 'string', default: '0' },
    config: { type: 'string' },
    'ec2-like': { type: 'boolean', default: false },
  },
});
if (!values.upstream) {
  console.error('usage: main.ts --upstream http://127.0.0.1:4566 [--port N] [--config file.json] [--ec2-like]');
  process.exit(2);
}
const fromFile = values.config ? (JSON.parse(readFileSync(values.config, 'utf8')) as Partial<FaultConfig>) : {};
const proxy = await startFaultProxy(values.upstream, { ...(values['ec2-like'] ? EC2_LIKE : {}), ...fromFile }, Number(values.port));
console.log(proxy.endpoint);
const stop = () => void proxy.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
