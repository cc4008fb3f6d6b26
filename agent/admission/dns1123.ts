/**
 * RFC 1123 label checks with the API server's wording (apimachinery IsDNS1123Label), so a pod the
 * kubelet rejects names the same problem kube-apiserver would have.
 */

export const DNS1123_LABEL_MAX_LENGTH = 63;

const LABEL_FORMAT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const LABEL = new RegExp(`^${LABEL_FORMAT}$`);
const SUBDOMAIN = new RegExp(`^${LABEL_FORMAT}(\\.${LABEL_FORMAT})*$`);
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
// Upstream's example list joins "'my-name', " and " or " (hence the two spaces); kept so messages match.
const LABEL_EXAMPLES = "(e.g. 'my-name',  or '123-abc', regex used for validation is '" + LABEL_FORMAT + "')";

/** Every reason `value` is not a DNS-1123 label; empty when it is one. */
export function dns1123LabelErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > DNS1123_LABEL_MAX_LENGTH) errors.push(`must be no more than ${DNS1123_LABEL_MAX_LENGTH} characters`);
  if (!LABEL.test(value)) {
    // A valid subdomain that is not a label can only be wrong by its dots.
    errors.push(SUBDOMAIN.test(value) ? 'must not contain dots' : `${LABEL_MESSAGE} ${LABEL_EXAMPLES}`);
  }
  return errors;
}

/**
 * `field: Invalid value: "value": reason` for the first problem, as field.Invalid prints it, or
 * undefined for a valid label.
 *
 * @example invalidDns1123Label('Web_1', 'spec.hostname') // 'spec.hostname: Invalid value: "Web_1": a lowercase RFC 1123 label must …'
 */
export function invalidDns1123Label(value: string, field: string): string | undefined {
  const [first] = dns1123LabelErrors(value);
  return first === undefined ? undefined : `${field}: Invalid value: ${JSON.stringify(value)}: ${first}`;
}
