export * from './kubelet-metrics.js';
export * from './health-server.js';
