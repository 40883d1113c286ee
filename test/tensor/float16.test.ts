import { describe, expect, it } from 'vitest';
import { exactHalfBits, FLOAT16_MAX, floatToHalfBits, halfToFloat, roundToFloat16, widenHalfBits } from '../../src/tensor/float16.ts';
import { Rng } from '../../src/tensor/rng.ts';

/**
 * The float64 oracle: every finite non-negative half, decoded by its own formula (not halfToFloat), sorted by
 * value (which is the order of the bit patterns 0x0000…0x7bff).
 */
const HALVES = Float64Array.from({ length: 0x7c00 }, (_, bits) => {
  const exponent = bits >> 10;
  const fraction = bits & 0x3ff;
  return exponent === 0 ? fraction / 2 ** 24 : (1024 + fraction) * 2 ** (exponent - 25);
});

/** The nearest half by search over all of them: ties to the even pattern; past 65504 + half a step, Infinity. */
function referenceBits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  let low = 0, high = HALVES.length - 1; // the last pattern with HALVES[pattern] ≤ a
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (HALVES[mid]! <= a) low = mid;
    else high = mid - 1;
  }
  if (low === HALVES.length - 1) return sign | low; // in [65504, 65520)
  const below = a - HALVES[low]!;
  const above = HALVES[low + 1]! - a;
  const bits = below < above ? low : above < below ? low + 1 : low % 2 === 0 ? low : low + 1;
  return sign | bits;
}

describe('float16 rounding', () => {
  it('every finite half converts back to its own pattern, and halfToFloat agrees with the oracle', () => {
    const wrong: string[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 0x1f) continue;
      const value = halfToFloat(bits);
      if (!Object.is(value, (bits & 0x8000 ? -1 : 1) * HALVES[bits & 0x7fff]!) || floatToHalfBits(value) !== bits) wrong.push(`${bits.toString(16)} → ${value}`);
    }
    expect(wrong).toEqual([]);
    expect([halfToFloat(0x7c00), halfToFloat(0xfc00), halfToFloat(0x7e00), halfToFloat(0x7c01)]).toEqual([Infinity, -Infinity, NaN, NaN]);
  });

  it('matches the float64 oracle on random values of every magnitude, normal and subnormal', () => {
    const rng = new Rng(16);
    for (let i = 0; i < 20000; i++) {
      const x = (rng.uniform() < 0.5 ? -1 : 1) * rng.uniform() * 2 ** Math.floor(rng.uniform() * 46 - 30);
      if (floatToHalfBits(x) !== referenceBits(x)) expect.fail(`x = ${x}: ${floatToHalfBits(x).toString(16)}, oracle ${referenceBits(x).toString(16)}`);
      expect(Object.is(roundToFloat16(x), halfToFloat(referenceBits(x)))).toBe(true);
    }
  });

  it('breaks exact ties to the even pattern, and rounds values just off a tie to the nearer half', () => {
    const rng = new Rng(17);
    for (let i = 0; i < 3000; i++) {
      const low = Math.floor(rng.uniform() * (HALVES.length - 1));
      const midpoint = (HALVES[low]! + HALVES[low + 1]!) / 2; // exact in a double
      expect(floatToHalfBits(midpoint)).toBe(low % 2 === 0 ? low : low + 1);
      expect(floatToHalfBits(midpoint * (1 - 2 ** -40))).toBe(low);
      expect(floatToHalfBits(midpoint * (1 + 2 ** -40))).toBe(low + 1);
    }
  });

  it('handles the edges: zeros, subnormals, the normal boundary, 65504 and overflow, NaN', () => {
    expect(floatToHalfBits(0)).toBe(0);
    expect(floatToHalfBits(-0)).toBe(0x8000);
    expect(Object.is(roundToFloat16(-0), -0)).toBe(true);
    expect(floatToHalfBits(2 ** -24)).toBe(1); // the smallest subnormal
    expect(floatToHalfBits(2 ** -25)).toBe(0); // a tie between 0 and 2^−24: to the even pattern 0
    expect(floatToHalfBits(2 ** -25 * 1.0000001)).toBe(1);
    expect(floatToHalfBits(3 * 2 ** -25)).toBe(2); // a tie between patterns 1 and 2
    expect(floatToHalfBits(-1e-9)).toBe(0x8000); // rounds to −0
    expect(floatToHalfBits(1023.5 * 2 ** -24)).toBe(0x400); // the largest subnormal's tie rounds up into the normals
    expect(floatToHalfBits(2 ** -14)).toBe(0x400);
    expect(floatToHalfBits(1)).toBe(0x3c00);
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1 + 2^−10: even
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalfBits(2047.5 / 2048 * 2)).toBe(0x4000); // the fraction rounds up to the next power of two
    expect(FLOAT16_MAX).toBe(65504);
    expect(floatToHalfBits(65504)).toBe(0x7bff);
    expect(roundToFloat16(65519.99)).toBe(65504);
    expect(roundToFloat16(65520)).toBe(Infinity); // the tie between 65504 and 2^16 goes to the even 2^16: overflow
    expect(roundToFloat16(-65520)).toBe(-Infinity);
    expect(roundToFloat16(1e300)).toBe(Infinity);
    expect(roundToFloat16(-Infinity)).toBe(-Infinity);
    expect(floatToHalfBits(NaN)).toBe(0x7e00);
    expect(roundToFloat16(NaN)).toBeNaN();
    expect(roundToFloat16(0.1)).toBe(0.0999755859375);
  });
});

describe('float16 arrays', () => {
  it('exactHalfBits gives the patterns when every value is a finite half, and widenHalfBits undoes it', () => {
    const values = Float32Array.from([0, -0, 1, -2.5, 65504, -65504, 2 ** -24, 0.0999755859375, 1023 * 2 ** -24]);
    const bits = exactHalfBits(values)!;
    expect(Array.from(bits)).toEqual(Array.from(values, floatToHalfBits));
    const widened = widenHalfBits(bits);
    expect(widened).toBeInstanceOf(Float32Array);
    for (let i = 0; i < values.length; i++) expect(Object.is(widened[i], values[i])).toBe(true);
    expect(exactHalfBits(new Float32Array(0))).toEqual(new Uint16Array(0));
  });

  it('exactHalfBits is null when one value is not a half, or not finite', () => {
    for (const odd of [0.1, 65505, 2 ** -26, 1 + 2 ** -11, Infinity, -Infinity, NaN]) {
      expect(exactHalfBits(Float32Array.from([1, odd, 2])), String(odd)).toBeNull();
    }
  });
});
