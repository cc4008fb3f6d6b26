/** Pure resource logic: quantities, QoS, pod requests, API defaulting, node allocatable and admission fit. */
export {
  Quantity,
  QuantityFieldError,
  QuantityParseError,
  parseQuantity,
  toQuantity,
  type QuantityErrorCode,
  type QuantityFormat,
} from './quantity.js';
export { computePodQOS, podQOSClass, type QOSClass } from './qos.js';
export { defaultPodRequests } from './api-defaults.js';
export { aggregateContainerRequests, podRequests, type FeatureGateOptions, type PodRequestsOptions } from './pod-requests.js';
export { parseResourceList, type ResourceList, type ResourceListInput } from './resource-list.js';
export {
  hardEvictionReservation,
  nodeAllocatable,
  nodeAllocatableReservation,
  type NodeAllocatableInput,
} from './allocatable.js';
export { podFitsResources, type InsufficientResource, type PodFitContext, type PodFitResult } from './admission.js';
