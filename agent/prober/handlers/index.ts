/** The probe handlers (httpGet, tcpSocket, exec, grpc) and the run-with-retries step of the prober. */
export { MAX_PROBE_OUTPUT_BYTES, ProberError, probeUserAgent, type HandlerResult, type ProbeRun } from './types.js';
export { resolveContainerPort } from './resolve-port.js';
export { buildHttpProbeRequest, canonicalHeaderName, httpProbe, type HttpProbeRequest } from './http.js';
export { tcpProbe } from './tcp.js';
export { execProbe, expandProbeCommand } from './exec.js';
export { grpcProbe, loadHealthProto, HEALTH_PROTO_PATH, type ServingStatus } from './grpc.js';
export { MAX_PROBE_RETRIES, probeEvent, probeOutcome, runProbe, runProbeWithRetries, type ProbeHandlerDeps, type ProbeTarget } from './run-probe.js';
