/**
 * resource.Quantity properties, checked against an exact rational model built from the same parts
 * as the text (see arbitraries/quantity.ts).
 */
import fc from 'fast-check';
import { Quantity, QuantityParseError, parseQuantity } from '../../agent/resources/quantity.js';
import {
  addExact,
  compareExact,
  exactOf,
  quantityCaseArb,
  quantityLikeTextArb,
  scaledAwayFromZero,
  type ExactDecimal,
} from '../arbitraries/quantity.js';
import type { NamedProperty } from './types.js';

function valueOf(q: Quantity): ExactDecimal {
  return exactOf(q.decimal);
}

export const quantityProperties: NamedProperty[] = [
  {
    name: 'quantity: parsing yields the exact decimal value and the suffix format',
    property: fc.property(quantityCaseArb, ({ text, expected, expectedFormat }) => {
      const q = parseQuantity(text);
      return compareExact(valueOf(q), expected) === 0 && q.format === expectedFormat;
    }),
  },
  {
    name: 'quantity: the string form parses back to the same value and is a fixed point',
    property: fc.property(quantityCaseArb, ({ text }) => {
      const q = parseQuantity(text);
      const printed = q.toString();
      const again = parseQuantity(printed);
      return again.cmp(q) === 0 && again.toString() === printed;
    }),
  },
  {
    name: 'quantity: the computed canonical form has no fraction, no sign unless negative, and round-trips',
    property: fc.property(quantityCaseArb, ({ text }) => {
      // neg().neg() drops the verbatim text, so this prints the computed canonical form.
      const q = parseQuantity(text).neg().neg();
      const printed = q.toString();
      const shapeOk = /^(0|-?[1-9][0-9]*(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e-?[0-9]+)?)$/.test(printed);
      return shapeOk && parseQuantity(printed).cmp(q) === 0;
    }),
  },
  {
    name: 'quantity: cmp agrees with exact decimal comparison',
    property: fc.property(quantityCaseArb, quantityCaseArb, (a, b) => {
      const qa = parseQuantity(a.text);
      const qb = parseQuantity(b.text);
      const expected = compareExact(a.expected, b.expected);
      return qa.cmp(qb) === expected && qb.cmp(qa) === -expected && qa.equals(qb) === (expected === 0);
    }),
  },
  {
    name: 'quantity: add, sub, neg and mul are exact and follow the zero-operand format rule',
    property: fc.property(quantityCaseArb, quantityCaseArb, fc.bigInt({ min: -1000n, max: 1000n }), (a, b, k) => {
      const qa = parseQuantity(a.text);
      const qb = parseQuantity(b.text);
      const sum = qa.add(qb);
      const difference = qa.sub(qb);
      const negB: ExactDecimal = { num: -b.expected.num, den: b.expected.den };
      const formatOk = sum.format === (qa.isZero() ? qb.format : qa.format) && difference.format === sum.format;
      return (
        formatOk &&
        compareExact(valueOf(sum), addExact(a.expected, b.expected)) === 0 &&
        compareExact(valueOf(difference), addExact(a.expected, negB)) === 0 &&
        compareExact(valueOf(qa.neg()), { num: -a.expected.num, den: a.expected.den }) === 0 &&
        compareExact(valueOf(qa.mul(k)), { num: a.expected.num * k, den: a.expected.den }) === 0 &&
        sum.sub(qb).cmp(qa) === 0
      );
    }),
  },
  {
    name: 'quantity: value() and milliValue() round away from zero',
    property: fc.property(quantityCaseArb, ({ text, expected }) => {
      const q = parseQuantity(text);
      return q.value() === scaledAwayFromZero(expected, 0) && q.milliValue() === scaledAwayFromZero(expected, -3);
    }),
  },
  {
    name: 'quantity: any text either parses or fails with an upstream error code, never otherwise',
    property: fc.property(quantityLikeTextArb, (text) => {
      try {
        const q = parseQuantity(text);
        return parseQuantity(q.toString()).cmp(q) === 0;
      } catch (error) {
        return error instanceof QuantityParseError && ['ErrFormatWrong', 'ErrSuffix', 'ErrNumeric'].includes(error.code);
      }
    }),
  },
];
