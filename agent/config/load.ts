import { parseAllDocuments } from 'yaml';
import { parseQuantity } from '../resources/quantity.js';
import { decodeConfigDocument } from './decode.js';
import { applyDependentDefaults, applyFinalDefaults, defaultKubeletConfiguration } from './defaults.js';
import type { Threshold } from '../eviction/index.js';
import { checkEvictionConfig, evictionThresholdsOf } from './eviction-check.js';
import { applyFlags, type KubeletFlags } from './flags.js';
import type { ConfigProblem, KubeletConfiguration, KubeletFlagOnlySettings } from './types.js';
import { validateKubeletConfiguration, type ValidationParsers } from './validate.js';

export interface LoadKubeletConfigInput {
  /** Text of the `--config` file (YAML or JSON); absent = no file, defaults only. */
  fileText?: string;
  /** Command-line flags, by kubelet flag name; they override the file. */
  flags?: KubeletFlags;
  /** Replaces the quantity/eviction parsers (tests); defaults to agent/resources and agent/eviction. */
  parsers?: ValidationParsers;
}

export interface LoadedKubeletConfig {
  /** The effective configuration (defaults ← file ← flags); meaningful only when `errors` is empty. */
  config: KubeletConfiguration;
  /** Flag-only settings (node name, root dir, kubeconfig). */
  settings: KubeletFlagOnlySettings;
  /** `field: message` lines; any error means the configuration must be rejected. */
  errors: string[];
  /** The parsed eviction thresholds (hard and soft, with allocatable mirrors); empty when there are errors. */
  evictionThresholds: Threshold[];
  /** Non-fatal findings (unknown fields), `field: message`. */
  warnings: string[];
  /** The same findings, structured. */
  problems: { errors: ConfigProblem[]; warnings: ConfigProblem[] };
}

export const defaultValidationParsers: ValidationParsers = {
  parseQuantity,
  checkEvictionThresholds: checkEvictionConfig,
};

/**
 * Builds the effective KubeletConfiguration the way kubelet does: decode the file (v1beta1,
 * lenient: unknown fields are warnings), apply upstream defaults, apply the flags on top (flag
 * precedence), then validate. Pure: no file or environment access.
 */
export function loadKubeletConfig(input: LoadKubeletConfigInput = {}): LoadedKubeletConfig {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const config = defaultKubeletConfiguration();
  const explicit = new Set<string>();

  if (input.fileText !== undefined) {
    const docs = parseAllDocuments(input.fileText, { prettyErrors: true });
    const list = Array.isArray(docs) ? docs : [docs];
    const content = list.filter((d) => d.contents !== null || d.errors.length > 0);
    if (content.length > 1) {
      errors.push({ field: '(file)', message: `expected one YAML document, found ${content.length}` });
    }
    const doc = content[0];
    const yamlErrors = doc?.errors ?? [];
    if (yamlErrors.length > 0) {
      for (const e of yamlErrors) errors.push({ field: '(file)', message: `invalid YAML: ${e.message.split('\n')[0]}` });
    } else {
      const decoded = decodeConfigDocument(doc ? doc.toJS({ maxAliasCount: 100 }) : null);
      errors.push(...decoded.errors);
      warnings.push(...decoded.warnings);
      for (const [field, value] of Object.entries(decoded.values)) {
        (config as unknown as Record<string, unknown>)[field] = value;
        explicit.add(field);
      }
    }
  }
  applyDependentDefaults(config, explicit);

  const flagResult = applyFlags(config, input.flags ?? {});
  errors.push(...flagResult.errors);
  warnings.push(...flagResult.warnings);
  applyFinalDefaults(config);

  // Semantic checks only make sense on a configuration that decoded cleanly.
  if (errors.length === 0) errors.push(...validateKubeletConfiguration(config, input.parsers ?? defaultValidationParsers));

  const settings: KubeletFlagOnlySettings = { rootDir: '/var/lib/kubelet', ...flagResult.flagOnly };
  const line = (p: ConfigProblem): string => `${p.field}: ${p.message}`;
  const evictionThresholds = errors.length === 0 ? evictionThresholdsOf(config) : [];
  return {
    config,
    settings,
    evictionThresholds,
    errors: errors.map(line),
    warnings: warnings.map(line),
    problems: { errors, warnings },
  };
}
