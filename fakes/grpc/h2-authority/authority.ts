/**
 * Characters Node's HTTP/2 layer (nghttp2 with HTTP messaging checks) accepts in `:authority` and
 * `host`: RFC 3986 unreserved and sub-delims, ':', '%', '[' and ']'. Recent nghttp2 also refuses '@',
 * so it counts as unacceptable here too (rewriting an acceptable value is harmless; passing an
 * unacceptable one through is not).
 */
const ACCEPTED = /^[A-Za-z0-9\-._~!$&'()*+,;=:%[\]]*$/;

/** Whether nghttp2 lets a request with this `:authority`/`host` value through. */
export function isAcceptedAuthority(value: string): boolean {
  return ACCEPTED.test(value);
}

/** What an unacceptable authority becomes: what crictl and the kubelet (>= 1.31) send for unix sockets. */
export const REPLACEMENT_AUTHORITY = 'localhost';
