// PURE: Kubernetes' rules for label keys and values (k8s.io/apimachinery pkg/util/validation), which the
// API server enforces: a patch with one bad label is refused whole, so okg-sq checks before writing.

const MAX_NAME_PART = 63;
const MAX_PREFIX = 253;
export const MAX_LABEL_VALUE = 63;

const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** IsQualifiedName ([prefix/]name, as label and annotation keys): undefined when valid, else why not. */
export function qualifiedNameError(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash >= 0 && key.indexOf('/', slash + 1) >= 0) return 'a qualified name has at most one "/"';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0) return 'the prefix before "/" must not be empty';
    if (prefix.length > MAX_PREFIX || !DNS1123_SUBDOMAIN.test(prefix)) return 'the prefix must be a DNS subdomain (lowercase)';
  }
  if (name.length === 0) return 'the name part must not be empty';
  if (name.length > MAX_NAME_PART) return `the name part must be at most ${MAX_NAME_PART} characters`;
  if (!QUALIFIED_NAME_PART.test(name)) return 'the name part must start and end with [A-Za-z0-9] and contain only [-A-Za-z0-9_.]';
  return undefined;
}

/** IsValidLabelValue: empty, or up to 63 characters of [-A-Za-z0-9_.] with alphanumerics at both ends. */
export function isLabelValue(value: string): boolean {
  return value.length <= MAX_LABEL_VALUE && LABEL_VALUE.test(value);
}
