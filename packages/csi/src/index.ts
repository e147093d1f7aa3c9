export * from './gen/csi.js';
export { RegistrationService, RegistrationClient, type PluginInfo, type RegistrationStatus } from './gen/pluginregistration.js';
export { serveUnix, type UnixServer, type ServiceBinding } from './server.js';
export { unary, type CallContext, type RpcObserver } from './unary.js';
export { serverStream, type Send } from './stream.js';
export { toGrpcStatus, fromGrpcError } from './status.js';
export { callUnary, type UnaryOptions } from './client.js';
export { pluginCapabilities } from './plugin.js';
export { healthLabel, isUnhealthy, HealthGauge } from './health.js';
