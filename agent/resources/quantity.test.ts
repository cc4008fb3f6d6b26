import { describe, expect, it } from 'vitest';
import { Quantity, QuantityParseError, parseQuantity, toQuantity, type QuantityFormat } from './quantity.js';

/** Upstream's decQuantity(i, exponent, format): the value i × 10^exponent. */
function dec(i: bigint | number, exponent: number, format: QuantityFormat): Quantity {
  return Quantity.fromScaled(BigInt(i), exponent, format);
}

const MAX_INT64 = (1n << 63n) - 1n;

// Rows of apimachinery quantity_test.go TestQuantityParse: input, exact value, format.
const PARSE_TABLE: ReadonlyArray<readonly [string, Quantity]> = [
  ['0', dec(0, 0, 'DecimalSI')],
  ['0n', dec(0, 0, 'DecimalSI')],
  ['0u', dec(0, 0, 'DecimalSI')],
  ['0m', dec(0, 0, 'DecimalSI')],
  ['0Ki', dec(0, 0, 'BinarySI')],
  ['0k', dec(0, 0, 'DecimalSI')],
  ['0Mi', dec(0, 0, 'BinarySI')],
  ['0M', dec(0, 0, 'DecimalSI')],
  ['0Gi', dec(0, 0, 'BinarySI')],
  ['0G', dec(0, 0, 'DecimalSI')],
  ['0Ti', dec(0, 0, 'BinarySI')],
  ['0T', dec(0, 0, 'DecimalSI')],
  ['1', dec(1, 0, 'DecimalSI')],
  ['1Ki', dec(1024, 0, 'BinarySI')],
  ['8Ki', dec(8 * 1024, 0, 'BinarySI')],
  ['7Mi', dec(7 * 1024 * 1024, 0, 'BinarySI')],
  ['6Gi', dec(6n * 1024n ** 3n, 0, 'BinarySI')],
  ['5Ti', dec(5n * 1024n ** 4n, 0, 'BinarySI')],
  ['4Pi', dec(4n * 1024n ** 5n, 0, 'BinarySI')],
  ['3Ei', dec(3n * 1024n ** 6n, 0, 'BinarySI')],
  ['10Ti', dec(10n * 1024n ** 4n, 0, 'BinarySI')],
  ['100Ti', dec(100n * 1024n ** 4n, 0, 'BinarySI')],
  ['5n', dec(5, -9, 'DecimalSI')],
  ['4u', dec(4, -6, 'DecimalSI')],
  ['3m', dec(3, -3, 'DecimalSI')],
  ['9', dec(9, 0, 'DecimalSI')],
  ['8k', dec(8, 3, 'DecimalSI')],
  ['50k', dec(5, 4, 'DecimalSI')],
  ['7M', dec(7, 6, 'DecimalSI')],
  ['6G', dec(6, 9, 'DecimalSI')],
  ['5T', dec(5, 12, 'DecimalSI')],
  ['40T', dec(4, 13, 'DecimalSI')],
  ['300T', dec(3, 14, 'DecimalSI')],
  ['2P', dec(2, 15, 'DecimalSI')],
  ['1E', dec(1, 18, 'DecimalSI')],
  ['1E-3', dec(1, -3, 'DecimalExponent')],
  ['1e3', dec(1, 3, 'DecimalExponent')],
  ['1E6', dec(1, 6, 'DecimalExponent')],
  ['1e9', dec(1, 9, 'DecimalExponent')],
  ['1E12', dec(1, 12, 'DecimalExponent')],
  ['1e15', dec(1, 15, 'DecimalExponent')],
  ['1E18', dec(1, 18, 'DecimalExponent')],
  ['1e14', dec(1, 14, 'DecimalExponent')],
  ['1e13', dec(1, 13, 'DecimalExponent')],
  ['100.035k', dec(100035, 0, 'DecimalSI')],
  ['0.001', dec(1, -3, 'DecimalSI')],
  ['0.0005k', dec(5, -1, 'DecimalSI')],
  ['0.005', dec(5, -3, 'DecimalSI')],
  ['0.05', dec(5, -2, 'DecimalSI')],
  ['0.5', dec(5, -1, 'DecimalSI')],
  ['0.00050k', dec(5, -1, 'DecimalSI')],
  ['0.00500', dec(5, -3, 'DecimalSI')],
  ['0.05000', dec(5, -2, 'DecimalSI')],
  ['0.50000', dec(5, -1, 'DecimalSI')],
  ['0.5e0', dec(5, -1, 'DecimalExponent')],
  ['0.5e-1', dec(5, -2, 'DecimalExponent')],
  ['0.5e-2', dec(5, -3, 'DecimalExponent')],
  ['10.035M', dec(10035, 3, 'DecimalSI')],
  ['1.2e3', dec(12, 2, 'DecimalExponent')],
  ['1.3E+6', dec(13, 5, 'DecimalExponent')],
  ['1.40e9', dec(14, 8, 'DecimalExponent')],
  ['1.53E12', dec(153, 10, 'DecimalExponent')],
  ['1.6e15', dec(16, 14, 'DecimalExponent')],
  ['1.7E18', dec(17, 17, 'DecimalExponent')],
  ['9.01', dec(901, -2, 'DecimalSI')],
  ['8.1k', dec(81, 2, 'DecimalSI')],
  ['7.123456M', dec(7123456, 0, 'DecimalSI')],
  ['6.987654321G', dec(6987654321, 0, 'DecimalSI')],
  ['5.444T', dec(5444, 9, 'DecimalSI')],
  ['40.1T', dec(401, 11, 'DecimalSI')],
  ['300.2T', dec(3002, 11, 'DecimalSI')],
  ['2.5P', dec(25, 14, 'DecimalSI')],
  ['1.01E', dec(101, 16, 'DecimalSI')],
  // Things that saturate or round.
  ['3.001n', dec(4, -9, 'DecimalSI')],
  ['1.1E-9', dec(2, -9, 'DecimalExponent')],
  ['0.0000000001', dec(1, -9, 'DecimalSI')],
  ['0.0000000005', dec(1, -9, 'DecimalSI')],
  ['0.00000000050', dec(1, -9, 'DecimalSI')],
  ['0.5e-9', dec(1, -9, 'DecimalExponent')],
  ['0.9n', dec(1, -9, 'DecimalSI')],
  ['0.00000012345', dec(124, -9, 'DecimalSI')],
  ['0.00000012354', dec(124, -9, 'DecimalSI')],
  ['9Ei', dec(MAX_INT64, 0, 'BinarySI')],
  ['9223372036854775807Ki', dec(MAX_INT64, 0, 'BinarySI')],
  ['12E', dec(12, 18, 'DecimalSI')],
  // Fractional binary values.
  ['100.035Ki', dec(10243584, -2, 'BinarySI')],
  ['0.5Mi', dec(524288, 0, 'BinarySI')],
  ['0.05Gi', dec(536870912, -1, 'BinarySI')],
  ['0.025Ti', dec(274877906944, -1, 'BinarySI')],
  // Written by trolls: rounds up and changes format.
  ['0.000000000001Ki', dec(2, -9, 'DecimalSI')],
  ['.001', dec(1, -3, 'DecimalSI')],
  ['.0001k', dec(100, -3, 'DecimalSI')],
  ['1.', dec(1, 0, 'DecimalSI')],
  ['1.G', dec(1, 9, 'DecimalSI')],
];

describe('parseQuantity (upstream TestQuantityParse table)', () => {
  for (const [input, expected] of PARSE_TABLE) {
    it(`parses ${input} to the exact value and format`, () => {
      const got = parseQuantity(input);
      expect(got.cmp(expected), `${got.toString()} vs ${expected.toString()}`).toBe(0);
      expect(got.format).toBe(expected.format);
    });
    it(`parses -${input} to the negated value and +${input} to the same value`, () => {
      const negative = parseQuantity(`-${input}`);
      expect(negative.cmp(expected.neg())).toBe(0);
      expect(negative.format).toBe(expected.format);
      const positive = parseQuantity(`+${input}`);
      expect(positive.cmp(expected)).toBe(0);
      expect(positive.format).toBe(expected.format);
    });
  }
});

describe('parseQuantity rejects what upstream rejects, with its error code', () => {
  const invalid: ReadonlyArray<readonly [string, string]> = [
    ['1.1.M', 'ErrFormatWrong'],
    ['1+1.0M', 'ErrFormatWrong'],
    ['0.1mi', 'ErrSuffix'],
    ['0.1am', 'ErrFormatWrong'],
    ['aoeu', 'ErrFormatWrong'],
    ['.5i', 'ErrSuffix'],
    ['1i', 'ErrSuffix'],
    ['-3.01i', 'ErrSuffix'],
    ['-3.01e-', 'ErrSuffix'],
    ['1e4294967297', 'ErrSuffix'],
    ['1E2147483648', 'ErrSuffix'],
    [' 1', 'ErrFormatWrong'],
    ['1 ', 'ErrFormatWrong'],
    ['', 'ErrFormatWrong'],
    ['Non-Numeric', 'ErrFormatWrong'],
    ['1K', 'ErrSuffix'],
    ['1MI', 'ErrFormatWrong'],
    ['1Kib', 'ErrFormatWrong'],
    ['1kb', 'ErrFormatWrong'],
    ['1p', 'ErrFormatWrong'],
    ['1e', 'ErrSuffix'],
    ['.e-10', 'ErrNumeric'],
    ['-e-10', 'ErrNumeric'],
  ];
  for (const [input, code] of invalid) {
    it(`rejects ${JSON.stringify(input)} with ${code}`, () => {
      let caught: unknown;
      try {
        parseQuantity(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(QuantityParseError);
      expect((caught as QuantityParseError).code).toBe(code);
      expect((caught as QuantityParseError).message).toContain(JSON.stringify(input));
    });
  }

  it('accepts the digitless shapes upstream scans as zero', () => {
    for (const input of ['.', '-.', '+', '-', '00', '-0', '0.0']) {
      expect(parseQuantity(input).isZero()).toBe(true);
      expect(parseQuantity(input).toString()).toBe('0');
    }
  });
});

describe('canonical string (upstream TestQuantityString)', () => {
  const table: ReadonlyArray<readonly [Quantity, string, string]> = [
    [dec(1024n ** 3n, 0, 'BinarySI'), '1Gi', '1024Mi'],
    [dec(300n * 1024n * 1024n, 0, 'BinarySI'), '300Mi', '307200Ki'],
    [dec(6 * 1024, 0, 'BinarySI'), '6Ki', ''],
    [dec(1001n * 1024n ** 3n, 0, 'BinarySI'), '1001Gi', '1025024Mi'],
    [dec(1024n ** 4n, 0, 'BinarySI'), '1Ti', '1024Gi'],
    [dec(5, 0, 'BinarySI'), '5', '5000m'],
    [dec(500, -3, 'BinarySI'), '500m', '0.5'],
    [dec(1, 9, 'DecimalSI'), '1G', '1000M'],
    [dec(1000, 6, 'DecimalSI'), '1G', '0.001T'],
    [dec(1000000, 3, 'DecimalSI'), '1G', ''],
    [dec(1000000000, 0, 'DecimalSI'), '1G', ''],
    [dec(1, -3, 'DecimalSI'), '1m', '1000u'],
    [dec(80, -3, 'DecimalSI'), '80m', ''],
    [dec(1080, -3, 'DecimalSI'), '1080m', '1.08'],
    [dec(108, -2, 'DecimalSI'), '1080m', '1080000000n'],
    [dec(10800, -4, 'DecimalSI'), '1080m', ''],
    [dec(300, 6, 'DecimalSI'), '300M', ''],
    [dec(1, 12, 'DecimalSI'), '1T', ''],
    [dec(1, 18, 'DecimalSI'), '1E', ''],
    [dec(1, 21, 'DecimalSI'), '1e21', '1000E'],
    [dec(5, 21, 'DecimalSI'), '5e21', '5000E'],
    [dec(1, 24, 'DecimalSI'), '1e24', '1000000E'],
    [dec(1, 70, 'BinarySI'), '10e69', ''],
    [dec(2, 70, 'BinarySI'), '20e69', ''],
    [dec(1, 72, 'BinarySI'), '1e72', ''],
    [dec(1234567, 6, 'DecimalSI'), '1234567M', ''],
    [dec(1234567, -3, 'BinarySI'), '1234567m', ''],
    [dec(3, 3, 'DecimalSI'), '3k', ''],
    [dec(1025, 0, 'BinarySI'), '1025', ''],
    [dec(0, 0, 'DecimalSI'), '0', ''],
    [dec(0, 0, 'BinarySI'), '0', ''],
    [dec(1, 9, 'DecimalExponent'), '1e9', '.001e12'],
    [dec(1, -3, 'DecimalExponent'), '1e-3', '0.001e0'],
    [dec(1, -9, 'DecimalExponent'), '1e-9', '1000e-12'],
    [dec(80, -3, 'DecimalExponent'), '80e-3', ''],
    [dec(300, 6, 'DecimalExponent'), '300e6', ''],
    [dec(1, 12, 'DecimalExponent'), '1e12', ''],
    [dec(1, 3, 'DecimalExponent'), '1e3', ''],
    [dec(3, 3, 'DecimalExponent'), '3e3', ''],
    [dec(0, 0, 'DecimalExponent'), '0', '00'],
    [dec(1, -9, 'DecimalSI'), '1n', ''],
    [dec(80, -9, 'DecimalSI'), '80n', ''],
    [dec(1080, -9, 'DecimalSI'), '1080n', ''],
    [dec(108, -8, 'DecimalSI'), '1080n', ''],
    [dec(10800, -10, 'DecimalSI'), '1080n', ''],
    [dec(1, -6, 'DecimalSI'), '1u', ''],
    [dec(80, -6, 'DecimalSI'), '80u', ''],
    [dec(1080, -6, 'DecimalSI'), '1080u', ''],
  ];
  for (const [value, canonical, alternate] of table) {
    it(`formats ${value.decimal.unscaled}e${value.decimal.scale} ${value.format} as ${canonical}`, () => {
      expect(value.toString()).toBe(canonical);
      expect(parseQuantity(canonical).toString()).toBe(canonical);
      if (alternate !== '') expect(parseQuantity(alternate).toString()).toBe(canonical);
      if (!value.isZero()) expect(value.neg().toString()).toBe(`-${canonical}`);
    });
  }

  it('falls back to decimal below nano (TestQuantityStringBelowNano)', () => {
    expect(dec(1, -12, 'DecimalSI').toString()).toBe('1e-12');
    expect(dec(1, -10, 'DecimalSI').toString()).toBe('100e-12');
  });

  it('prints a BinarySI value past Ei as its exact decimal digits', () => {
    const q = parseQuantity('1Ei').mul(1024n);
    expect(q.toString()).toBe('1180591620717411303424');
    expect(parseQuantity(q.toString()).cmp(q)).toBe(0);
  });

  it('prints BinarySI integers that no power of 1024 divides without a suffix', () => {
    expect(dec(2000, 0, 'BinarySI').toString()).toBe('2000');
    expect(dec(-2000, 0, 'BinarySI').toString()).toBe('-2000');
  });
});

describe('parse then emit (upstream TestQuantityParseEmit and the verbatim quirk)', () => {
  const table: ReadonlyArray<readonly [string, string]> = [
    ['1Ki', '1Ki'],
    ['1Mi', '1Mi'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1000M', '1G'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    // Canonical-looking text is kept as written.
    ['+1', '+1'],
    ['001', '001'],
    ['5.', '5.'],
    ['1E3', '1E3'],
    ['1.500', '1.500'],
    ['+001.500k', '+001.500k'],
    ['1023Ki', '1023Ki'],
    ['1.Ki', '1.Ki'],
    // ...and anything else is re-emitted canonically.
    ['1.5', '1500m'],
    ['1000', '1k'],
    ['1200', '1200'],
    ['0.1m', '100u'],
    ['5e-4', '500e-6'],
    ['1.5Gi', '1536Mi'],
    ['100.035Ki', '102435840m'],
    ['8Ki', '8Ki'],
    ['1000Ki', '1000Ki'],
    ['5000m', '5'],
    ['1e2147483647', '10e2147483646'],
    ['1e-2147483647', '1e-9'],
    ['0.0000000000001', '1n'],
  ];
  for (const [input, output] of table) {
    it(`emits ${input} as ${output}`, () => {
      expect(parseQuantity(input).toString()).toBe(output);
    });
  }

  it('uses the computed canonical form after arithmetic', () => {
    expect(parseQuantity('+1').add(parseQuantity('0')).toString()).toBe('1');
    expect(parseQuantity('1.500').neg().toString()).toBe('-1500m');
  });
});

describe('arithmetic and comparison', () => {
  it('compares across formats (upstream TestQuantityCmp)', () => {
    expect(parseQuantity('0').cmp(parseQuantity('0'))).toBe(0);
    expect(parseQuantity('100m').cmp(parseQuantity('50m'))).toBe(1);
    expect(parseQuantity('50m').cmp(parseQuantity('100m'))).toBe(-1);
    expect(parseQuantity('10000T').cmp(parseQuantity('100Gi'))).toBe(1);
    expect(parseQuantity('1').cmp(parseQuantity('1000m'))).toBe(0);
    expect(parseQuantity('1G').cmp(parseQuantity('1Gi'))).toBe(-1);
    expect(parseQuantity('1e2147483647').cmp(parseQuantity('9Ei'))).toBe(1);
    expect(parseQuantity('-1e2147483647').cmp(parseQuantity('-9Ei'))).toBe(-1);
  });

  it('keeps the suffix of the non-zero operand when adding or subtracting zero', () => {
    for (const text of ['100m', '1Gi']) {
      const value = parseQuantity(text);
      const zero = parseQuantity('0');
      expect(value.add(zero).toString()).toBe(text);
      expect(zero.add(value).toString()).toBe(text);
      expect(value.sub(zero).toString()).toBe(text);
      expect(zero.sub(value).toString()).toBe(value.neg().toString());
    }
  });

  it('negates exactly (upstream TestQuantityNeg)', () => {
    expect(dec(901, -2, 'DecimalSI').neg().toString()).toBe('-9010m');
  });

  it('rounds Value and MilliValue away from zero', () => {
    expect(parseQuantity('1.1').value()).toBe(2n);
    expect(parseQuantity('-1.1').value()).toBe(-2n);
    expect(parseQuantity('1Gi').value()).toBe(1073741824n);
    expect(parseQuantity('0.1m').milliValue()).toBe(1n);
    expect(parseQuantity('100m').milliValue()).toBe(100n);
    expect(parseQuantity('1n').value()).toBe(1n);
    expect(parseQuantity('12E').value()).toBe(12n * 10n ** 18n);
  });

  it('rounds up to a scale (upstream TestQuantityRoundUp)', () => {
    const rows: ReadonlyArray<readonly [string, number, Quantity]> = [
      ['9.01', -3, dec(901, -2, 'DecimalSI')],
      ['9.01', -2, dec(901, -2, 'DecimalSI')],
      ['9.01', -1, dec(91, -1, 'DecimalSI')],
      ['9.01', 0, dec(10, 0, 'DecimalSI')],
      ['9.01', 1, dec(10, 0, 'DecimalSI')],
      ['9.01', 2, dec(100, 0, 'DecimalSI')],
      ['-9.01', -3, dec(-901, -2, 'DecimalSI')],
      ['-9.01', -1, dec(-91, -1, 'DecimalSI')],
      ['-9.01', 0, dec(-10, 0, 'DecimalSI')],
      ['-9.01', 2, dec(-100, 0, 'DecimalSI')],
    ];
    for (const [input, scale, expected] of rows) {
      expect(parseQuantity(input).roundUp(scale).cmp(expected), `${input} at ${scale}`).toBe(0);
    }
  });

  it('refuses arithmetic that would need an absurd number of digits instead of hanging', () => {
    expect(() => parseQuantity('1e2147483647').add(parseQuantity('1'))).toThrow(RangeError);
  });
});

describe('toQuantity', () => {
  it('accepts JSON numbers as the API does for unquoted quantities', () => {
    expect(toQuantity(1, 'cpu').toString()).toBe('1');
    expect(toQuantity(0.5, 'cpu').toString()).toBe('500m');
    expect(() => toQuantity(Number.NaN, 'limits.cpu')).toThrow(/limits\.cpu: invalid quantity/);
  });
});
