/**
 * metav1.Status errors with the codes, reasons and message shapes kube-apiserver uses, so clients
 * (client-go's apierrors.IsNotFound etc., client-node's error handling, kubectl's messages) react as
 * they would against a real cluster.
 */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** An API error: thrown by the pure REST layer, rendered as a Status body by the HTTP layer. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): StatusObject {
    const status: StatusObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** Names a resource the way kube-apiserver's messages do: `pods "web"` or `leases.coordination.k8s.io "n1"`. */
export interface ResourceName {
  group: string;
  plural: string;
}

function qualified(resource: ResourceName): string {
  return resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
}

function details(resource: ResourceName, name: string, extra?: Partial<StatusDetails>): StatusDetails {
  const d: StatusDetails = { name, kind: resource.plural, ...extra };
  if (resource.group) d.group = resource.group;
  return d;
}

export const errors = {
  notFound(resource: ResourceName, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualified(resource)} "${name}" not found`, details(resource, name));
  },
  alreadyExists(resource: ResourceName, name: string): ApiError {
    return new ApiError(409, 'AlreadyExists', `${qualified(resource)} "${name}" already exists`, details(resource, name));
  },
  conflict(resource: ResourceName, name: string, why: string): ApiError {
    return new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(resource)} "${name}": ${why}`,
      details(resource, name),
    );
  },
  staleResourceVersion(resource: ResourceName, name: string): ApiError {
    return errors.conflict(
      resource,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  },
  invalid(kind: string, name: string, group: string, causes: StatusCause[]): ApiError {
    const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
    const d: StatusDetails = { name, kind, causes };
    if (group) d.group = group;
    return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${joined}`, d);
  },
  badRequest(message: string, causes?: StatusCause[]): ApiError {
    return new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined);
  },
  forbidden(resource: ResourceName, name: string, why: string): ApiError {
    const subject = name ? `${qualified(resource)} "${name}"` : qualified(resource);
    return new ApiError(403, 'Forbidden', `${subject} is forbidden: ${why}`, details(resource, name));
  },
  gone(message: string): ApiError {
    return new ApiError(410, 'Gone', message);
  },
  expired(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  },
  methodNotAllowed(message: string): ApiError {
    return new ApiError(405, 'MethodNotAllowed', message);
  },
  unsupportedMediaType(contentType: string): ApiError {
    return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType || 'none'})`);
  },
  notAcceptable(accept: string): ApiError {
    return new ApiError(406, 'NotAcceptable', `only the following media types are accepted: application/json (got ${accept})`);
  },
  tooLarge(limit: number): ApiError {
    return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
  },
  /** A path no route serves (kube-apiserver's generic 404). */
  notFoundPath(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  },
  unauthorized(): ApiError {
    return new ApiError(401, 'Unauthorized', 'Unauthorized');
  },
  internal(message: string): ApiError {
    return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
  },
  unavailable(message: string): ApiError {
    return new ApiError(503, 'ServiceUnavailable', message);
  },
  tooManyRequests(message: string, retryAfterSeconds: number): ApiError {
    return new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds });
  },
  timeout(message: string): ApiError {
    return new ApiError(504, 'Timeout', message);
  },
};
