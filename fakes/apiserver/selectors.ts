import { errors } from './status.js';
import type { JsonValue, KubeObject } from './types.js';
import { isJsonObject } from './types.js';

/**
 * labelSelector and fieldSelector: parsing (400 on bad syntax, as kube-apiserver answers) and matching.
 */
export type LabelRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type LabelSelector = LabelRequirement[];

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, selector: string): string {
  if (!LABEL_KEY.test(key)) {
    throw errors.badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${selector}"`);
  }
  return key;
}

function checkValue(value: string, selector: string): string {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw errors.badRequest(`unable to parse requirement: invalid label value: "${value}" in selector "${selector}"`);
  }
  return value;
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(input.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(input.slice(start));
  return parts;
}

export function parseLabelSelector(selector: string | null | undefined): LabelSelector {
  if (!selector || selector.trim() === '') return [];
  const out: LabelSelector = [];
  for (const raw of splitTopLevel(selector)) {
    const part = raw.trim();
    if (part === '') throw errors.badRequest(`unable to parse requirement: found '', expected: identifier in selector "${selector}"`);
    let m: RegExpMatchArray | null;
    if ((m = /^!\s*(\S+)$/.exec(part))) {
      out.push({ key: checkKey(m[1] as string, selector), op: 'notexists' });
    } else if ((m = /^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      const values = (m[3] as string).split(',').map((v) => checkValue(v.trim(), selector));
      out.push({ key: checkKey(m[1] as string, selector), op: m[2] as 'in' | 'notin', values });
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
      const op = m[2] === '!=' ? 'neq' : 'eq';
      out.push({ key: checkKey(m[1] as string, selector), op, value: checkValue(m[3] as string, selector) });
    } else if (/^[^=!\s()]+$/.test(part)) {
      out.push({ key: checkKey(part, selector), op: 'exists' });
    } else {
      throw errors.badRequest(`unable to parse requirement: couldn't parse the selector string "${selector}"`);
    }
  }
  return out;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const req of selector) {
    const has = labels !== undefined && Object.hasOwn(labels, req.key);
    const value = has ? (labels as Record<string, string>)[req.key] : undefined;
    switch (req.op) {
      case 'eq':
        if (value !== req.value) return false;
        break;
      case 'neq':
        if (value === req.value) return false;
        break;
      case 'in':
        if (value === undefined || !req.values.includes(value)) return false;
        break;
      case 'notin':
        if (value !== undefined && req.values.includes(value)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

export type FieldSelector = FieldRequirement[];

/** Parses a fieldSelector, rejecting fields the resource does not index (kube: "field label not supported"). */
export function parseFieldSelector(
  selector: string | null | undefined,
  supported: readonly string[],
  kind: string,
): FieldSelector {
  if (!selector || selector.trim() === '') return [];
  const out: FieldSelector = [];
  for (const raw of selector.split(',')) {
    const part = raw.trim();
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(part);
    if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const field = (m[1] as string).trim();
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && !supported.includes(field)) {
      throw errors.badRequest(`field label not supported: ${field}`, [
        { reason: 'FieldValueNotSupported', message: `"${field}" is not a known field selector for ${kind}`, field: 'fieldSelector' },
      ]);
    }
    out.push({ field, op: m[2] === '!=' ? 'neq' : 'eq', value: unescapeFieldValue(m[3] as string) });
  }
  return out;
}

function unescapeFieldValue(value: string): string {
  return value.replace(/\\([\\,=])/g, '$1');
}

/** The string value kube indexes for a field label ('' when absent; booleans as "true"/"false"). */
export function fieldValue(object: KubeObject, field: string): string {
  if (field === 'source') {
    // Events index `source` as the reporting component (source.component in core/v1).
    const src = object['source'];
    return isJsonObject(src) && typeof src['component'] === 'string' ? src['component'] : '';
  }
  let cur: JsonValue | undefined = object as unknown as JsonValue;
  for (const segment of field.split('.')) {
    if (!isJsonObject(cur)) return '';
    cur = cur[segment];
  }
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'boolean' || typeof cur === 'number') return String(cur);
  if (cur === undefined || cur === null) {
    // Unset booleans index as "false", e.g. spec.unschedulable and spec.hostNetwork.
    return field === 'spec.unschedulable' || field === 'spec.hostNetwork' ? 'false' : '';
  }
  return '';
}

export function matchesFields(selector: FieldSelector, object: KubeObject): boolean {
  for (const req of selector) {
    const value = fieldValue(object, req.field);
    if (req.op === 'eq' ? value !== req.value : value === req.value) return false;
  }
  return true;
}
