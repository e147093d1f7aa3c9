import { startApp, type AppProcess } from '../support/app.js';

export type NodeAgentProcess = AppProcess;

/**
 * Starts the real node agent (apps/node-agent/src/main.ts) as a child process
 * with `env` on top of a minimal environment and waits until it answers Probe.
 */
export function startNodeAgent(endpoint: string, env: Record<string, string>): Promise<NodeAgentProcess> {
  return startApp('node agent', 'apps/node-agent/src/main.ts', endpoint, env);
}
