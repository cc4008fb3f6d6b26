import { describe, expect, it } from 'vitest';
import { parseQuantity } from '../resources/quantity.js';
import { InvalidInputError } from '../util/invalid-input.js';
import { evictionConfigFromFlags } from './flags.js';
import { formatThresholdValue, parseEvictionThresholds, parseFloat32, thresholdQuantity, type EvictionThresholdConfig, type Threshold } from './thresholds.js';

/** A threshold in a comparable shape: quantities as canonical text, percentages as float32. */
function shape(t: Threshold): unknown {
  const value = (v: Threshold['value']) =>
    v.quantity !== undefined ? { quantity: v.quantity.toString() } : { percentage: v.percentage };
  return {
    signal: t.signal,
    value: value(t.value),
    grace: t.gracePeriodSeconds,
    ...(t.minReclaim ? { minReclaim: value(t.minReclaim) } : {}),
  };
}

const pct = (x: number) => ({ percentage: Math.fround(x) });
const qty = (text: string) => ({ quantity: parseQuantity(text).toString() });

interface Row {
  name: string;
  flags: { hard?: string; soft?: string; grace?: string; reclaim?: string; allocatable?: string };
  expectError?: RegExp;
  expected?: unknown[];
}

// Cases of pkg/kubelet/eviction helpers_test.go TestParseThresholdConfig, as flag strings.
const TABLE: Row[] = [
  { name: 'no values', flags: { hard: '', soft: '', grace: '', reclaim: '' }, expected: [] },
  {
    name: 'all memory-related values',
    flags: { hard: 'memory.available<150Mi', soft: 'memory.available<300Mi', grace: 'memory.available=30s', reclaim: 'memory.available=0' },
    expected: [
      { signal: 'memory.available', value: qty('150Mi'), grace: 0, minReclaim: qty('0') },
      { signal: 'memory.available', value: qty('300Mi'), grace: 30, minReclaim: qty('0') },
    ],
  },
  {
    name: 'all memory-related values in percentages',
    flags: { hard: 'memory.available<10%', soft: 'memory.available<30%', grace: 'memory.available=30s', reclaim: 'memory.available=5%' },
    expected: [
      { signal: 'memory.available', value: pct(0.1), grace: 0, minReclaim: pct(0.05) },
      { signal: 'memory.available', value: pct(0.3), grace: 30, minReclaim: pct(0.05) },
    ],
  },
  {
    name: 'allocatable memory mirrors the hard memory threshold',
    flags: { hard: 'memory.available<150Mi', reclaim: 'memory.available=0', allocatable: 'pods' },
    expected: [
      { signal: 'memory.available', value: qty('150Mi'), grace: 0, minReclaim: qty('0') },
      { signal: 'allocatableMemory.available', value: qty('150Mi'), grace: 0, minReclaim: qty('0') },
    ],
  },
  {
    name: 'disk flag values',
    flags: {
      hard: 'imagefs.available<150Mi,nodefs.available<100Mi',
      soft: 'imagefs.available<300Mi,nodefs.available<200Mi',
      grace: 'imagefs.available=30s,nodefs.available=30s',
      reclaim: 'imagefs.available=2Gi,nodefs.available=1Gi',
    },
    expected: [
      { signal: 'imagefs.available', value: qty('150Mi'), grace: 0, minReclaim: qty('2Gi') },
      { signal: 'nodefs.available', value: qty('100Mi'), grace: 0, minReclaim: qty('1Gi') },
      { signal: 'imagefs.available', value: qty('300Mi'), grace: 30, minReclaim: qty('2Gi') },
      { signal: 'nodefs.available', value: qty('200Mi'), grace: 30, minReclaim: qty('1Gi') },
    ],
  },
  {
    name: 'disk flag values in percentages',
    flags: {
      hard: 'imagefs.available<15%,nodefs.available<10.5%',
      soft: 'imagefs.available<30%,nodefs.available<20.5%',
      grace: 'imagefs.available=30s,nodefs.available=30s',
      reclaim: 'imagefs.available=10%,nodefs.available=5%',
    },
    expected: [
      { signal: 'imagefs.available', value: pct(0.15), grace: 0, minReclaim: pct(0.1) },
      { signal: 'nodefs.available', value: pct(0.105), grace: 0, minReclaim: pct(0.05) },
      { signal: 'imagefs.available', value: pct(0.3), grace: 30, minReclaim: pct(0.1) },
      { signal: 'nodefs.available', value: pct(0.205), grace: 30, minReclaim: pct(0.05) },
    ],
  },
  {
    name: 'inode flag values',
    flags: {
      hard: 'imagefs.inodesFree<150Mi,nodefs.inodesFree<100Mi',
      soft: 'imagefs.inodesFree<300Mi,nodefs.inodesFree<200Mi',
      grace: 'imagefs.inodesFree=30s,nodefs.inodesFree=30s',
      reclaim: 'imagefs.inodesFree=2Gi,nodefs.inodesFree=1Gi',
    },
    expected: [
      { signal: 'imagefs.inodesFree', value: qty('150Mi'), grace: 0, minReclaim: qty('2Gi') },
      { signal: 'nodefs.inodesFree', value: qty('100Mi'), grace: 0, minReclaim: qty('1Gi') },
      { signal: 'imagefs.inodesFree', value: qty('300Mi'), grace: 30, minReclaim: qty('2Gi') },
      { signal: 'nodefs.inodesFree', value: qty('200Mi'), grace: 30, minReclaim: qty('1Gi') },
    ],
  },
  { name: 'disable via 0%', flags: { hard: 'memory.available<0%', soft: 'memory.available<0%' }, expected: [] },
  { name: 'disable via 100%', flags: { hard: 'memory.available<100%', soft: 'memory.available<100%' }, expected: [] },
  { name: '0.0% is a real zero threshold', flags: { hard: 'memory.available<0.0%' }, expected: [{ signal: 'memory.available', value: pct(0), grace: 0 }] },
  { name: 'repeated % signs are stripped', flags: { hard: 'memory.available<10%%' }, expected: [{ signal: 'memory.available', value: pct(0.1), grace: 0 }] },
  { name: 'later duplicates win', flags: { hard: 'memory.available<150Mi,memory.available<100Mi' }, expected: [{ signal: 'memory.available', value: qty('100Mi'), grace: 0 }] },
  {
    name: 'grace periods for signals without a soft threshold are ignored',
    flags: { hard: 'nodefs.available<1Gi', grace: 'memory.available=30s' },
    expected: [{ signal: 'nodefs.available', value: qty('1Gi'), grace: 0 }],
  },
  { name: 'invalid signal', flags: { hard: 'mem.available<150Mi' }, expectError: /evictionHard: unsupported eviction signal mem\.available/ },
  { name: 'valid and invalid signal', flags: { hard: 'memory.available<150Mi,invalid.foo<150Mi' }, expectError: /unsupported eviction signal invalid\.foo/ },
  { name: 'hard signal negative', flags: { hard: 'memory.available<-150Mi' }, expectError: /evictionHard\["memory\.available"\]: eviction threshold memory\.available must be positive/ },
  { name: 'hard signal zero', flags: { hard: 'memory.available<0' }, expectError: /must be positive/ },
  { name: 'hard signal negative percentage', flags: { hard: 'memory.available<-15%' }, expectError: /must be >= 0%/ },
  { name: 'hard signal percentage over 100', flags: { hard: 'memory.available<150%' }, expectError: /must be <= 100%/ },
  { name: 'hard signal bad quantity', flags: { hard: 'memory.available<1x' }, expectError: /evictionHard\["memory\.available"\]: invalid quantity "1x"/ },
  { name: 'hard signal bad percentage', flags: { hard: 'memory.available<abc%' }, expectError: /invalid syntax/ },
  { name: 'soft signal negative', flags: { soft: 'memory.available<-150Mi' }, expectError: /must be positive/ },
  { name: 'soft without grace period', flags: { soft: 'memory.available<150Mi' }, expectError: /grace period must be specified for the soft eviction threshold memory\.available/ },
  { name: 'soft with negative grace period', flags: { soft: 'memory.available<150Mi', grace: 'memory.available=-30s' }, expectError: /must be a positive value/ },
  { name: 'grace period without unit', flags: { soft: 'memory.available<150Mi', grace: 'memory.available=30' }, expectError: /evictionSoftGracePeriod\["memory\.available"\]: .*missing unit/ },
  { name: 'grace period for an invalid signal', flags: { grace: 'mem.available=30s' }, expectError: /unsupported eviction signal/ },
  { name: 'negative reclaim', flags: { reclaim: 'memory.available=-300Mi' }, expectError: /negative eviction minimum reclaim specified for memory\.available/ },
  { name: 'zero percentage reclaim', flags: { reclaim: 'memory.available=0%' }, expectError: /minimum reclaim memory\.available must be positive/ },
  { name: 'malformed hard pair', flags: { hard: 'memory.available=100Mi' }, expectError: /--eviction-hard: malformed pair/ },
  { name: 'malformed reclaim pair', flags: { reclaim: 'memory.available<100Mi' }, expectError: /--eviction-minimum-reclaim: malformed pair/ },
];

function toFlags(row: Row) {
  return {
    ...(row.flags.hard === undefined ? { 'eviction-hard': '' } : { 'eviction-hard': row.flags.hard }),
    ...(row.flags.soft === undefined ? {} : { 'eviction-soft': row.flags.soft }),
    ...(row.flags.grace === undefined ? {} : { 'eviction-soft-grace-period': row.flags.grace }),
    ...(row.flags.reclaim === undefined ? {} : { 'eviction-minimum-reclaim': row.flags.reclaim }),
    'enforce-node-allocatable': row.flags.allocatable ?? '',
  };
}

describe('parseEvictionThresholds (upstream TestParseThresholdConfig cases)', () => {
  for (const row of TABLE) {
    it(row.expectError ? `rejects ${row.name}` : `parses ${row.name}`, () => {
      const parse = () => parseEvictionThresholds(evictionConfigFromFlags(toFlags(row)));
      if (row.expectError) {
        expect(parse).toThrow(InvalidInputError);
        expect(parse).toThrow(row.expectError);
      } else {
        expect(parse().map(shape)).toEqual(row.expected);
      }
    });
  }
});

describe('eviction configuration defaults', () => {
  it('uses the Linux default evictionHard when unset, mirrored for allocatable memory', () => {
    expect(parseEvictionThresholds().map(shape)).toEqual([
      { signal: 'memory.available', value: qty('100Mi'), grace: 0 },
      { signal: 'nodefs.available', value: pct(0.1), grace: 0 },
      { signal: 'nodefs.inodesFree', value: pct(0.05), grace: 0 },
      { signal: 'imagefs.available', value: pct(0.15), grace: 0 },
      { signal: 'allocatableMemory.available', value: qty('100Mi'), grace: 0 },
    ]);
  });

  it('an explicit evictionHard replaces the whole default map', () => {
    const config: EvictionThresholdConfig = { evictionHard: { 'nodefs.available': '5%' }, enforceNodeAllocatable: [] };
    expect(parseEvictionThresholds(config).map((t) => t.signal)).toEqual(['nodefs.available']);
    expect(parseEvictionThresholds({ evictionHard: {} })).toEqual([]);
  });

  it('an absent --eviction-hard flag keeps the default; an empty one clears it', () => {
    expect(evictionConfigFromFlags({})).toEqual({});
    expect(evictionConfigFromFlags({ 'eviction-hard': '' })).toEqual({ evictionHard: {} });
    expect(evictionConfigFromFlags({ 'eviction-hard': ' memory.available < 1Gi , nodefs.available<5%' })).toEqual({
      evictionHard: { 'memory.available': '1Gi', 'nodefs.available': '5%' },
    });
  });

  it('mirrors a soft memory threshold with a zero grace period, since it is then hard', () => {
    const thresholds = parseEvictionThresholds({
      evictionHard: {},
      evictionSoft: { 'memory.available': '1Gi' },
      evictionSoftGracePeriod: { 'memory.available': '0s' },
    });
    expect(thresholds.map((t) => t.signal)).toEqual(['memory.available', 'allocatableMemory.available']);
  });

  it('refuses a NaN percentage that upstream would let through', () => {
    expect(() => parseEvictionThresholds({ evictionHard: { 'memory.available': 'NaN%' } })).toThrow(InvalidInputError);
  });
});

describe('threshold quantities (float32 percentages)', () => {
  it('computes 10% of 100Gi through float32, as upstream does', () => {
    const [threshold] = parseEvictionThresholds({ evictionHard: { 'nodefs.available': '10%' }, enforceNodeAllocatable: [] });
    expect(thresholdQuantity(threshold!.value, parseQuantity('100Gi')).value()).toBe(10737418400n);
  });

  it('truncates the product toward zero', () => {
    expect(thresholdQuantity({ percentage: Math.fround(0.05) }, parseQuantity('999')).value()).toBe(49n);
  });

  it('parses float32 like strconv.ParseFloat(s, 32)', () => {
    expect(parseFloat32('0.1')).toBe(Math.fround(0.1));
    expect(parseFloat32('1e3')).toBe(1000);
    expect(parseFloat32('-inf')).toBe(-Infinity);
    expect(() => parseFloat32('1e39')).toThrow(/out of range/);
    expect(() => parseFloat32('10 ')).toThrow(/invalid syntax/);
  });

  it('formats values back to config text', () => {
    expect(formatThresholdValue({ percentage: Math.fround(0.105) })).toBe('10.5%');
    expect(formatThresholdValue({ quantity: parseQuantity('100Mi') })).toBe('100Mi');
  });
});
