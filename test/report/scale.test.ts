import { describe, expect, it } from 'vitest';
import { createScale, formatSparsity, linearTicks, logTicks, niceDomain, niceStep, sparsityTicks } from '../../src/report/scale.ts';
import { formatBytes, formatCompact, formatNumber, formatPercent } from '../../src/report/format.ts';

describe('nice ticks', () => {
  it('uses 1-2-5 steps on linear axes, without floating-point dust', () => {
    expect(niceStep(0.17)).toBeCloseTo(0.2);
    expect(niceStep(3.3)).toBe(5);
    expect(niceStep(1.2)).toBe(1);
    expect(linearTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(0.1, 0.35, 5)).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
    expect(linearTicks(-3, 7, 5)).toEqual([-2, 0, 2, 4, 6]);
  });

  it('puts log ticks at 1-2-5 × 10^k over a few decades and at powers of ten over many', () => {
    expect(logTicks(0.5, 20)).toEqual([0.5, 1, 2, 5, 10, 20]);
    expect(logTicks(1, 1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect(logTicks(1, 1e6)).toEqual([1, 10, 100, 1000, 1e4, 1e5, 1e6]);
    const wide = logTicks(1e-3, 1e12);
    expect(wide.length).toBeLessThanOrEqual(10);
    for (const tick of wide) expect(Number.isInteger(Math.log10(tick))).toBe(true);
  });

  it('falls back to linear ticks on a log axis narrower than one 1-2-5 step', () => {
    const ticks = logTicks(1.1, 1.9);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    for (const tick of ticks) expect(tick).toBeGreaterThanOrEqual(1.1);
  });

  it('puts sparsity ticks where the density 1 − s is 1-2-5 × 10^k', () => {
    expect(sparsityTicks(0, 0.99)).toEqual([0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99]);
    expect(sparsityTicks(0.9, 0.999)).toEqual([0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999]);
  });

  it('widens data ranges to tidy domains', () => {
    expect(niceDomain('linear', 0.53, 0.97)).toEqual([0.5, 1]);
    expect(niceDomain('linear', 3, 3)).toEqual([2.7, 3.3]);
    expect(niceDomain('linear', 0, 0)).toEqual([-1, 1]);
    expect(niceDomain('log', 0.41, 27.8)).toEqual([0.2, 50]);
    expect(niceDomain('sparsity', 0, 0.99)).toEqual([0, 0.99]);
    expect(niceDomain('sparsity', 0.6, 0.97)).toEqual([0.5, 0.98]);
  });
});

describe('sparsity scale', () => {
  it('spaces 90 %, 99 % and 99.9 % equally (a log scale of the density)', () => {
    const scale = createScale('sparsity', [0, 0.999], [0, 300]);
    expect(scale.toPixel(0)).toBeCloseTo(0);
    expect(scale.toPixel(0.9)).toBeCloseTo(100);
    expect(scale.toPixel(0.99)).toBeCloseTo(200);
    expect(scale.toPixel(0.999)).toBeCloseTo(300);
    expect(scale.accepts(1)).toBe(false);
    expect(scale.accepts(-0.1)).toBe(false);
  });

  it('labels sparsity ticks as percentages with just enough decimals', () => {
    expect(formatSparsity(0.9)).toBe('90%');
    expect(formatSparsity(0.995)).toBe('99.5%');
    expect(formatSparsity(0.9995)).toBe('99.95%');
    expect(formatSparsity(0)).toBe('0%');
  });
});

describe('number formatting', () => {
  it('formats table numbers the same on every machine', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(0.98765)).toBe('0.9877');
    expect(formatNumber(-0.0001234)).toBe('-0.0001234');
    expect(formatNumber(1234.5678)).toBe('1,234.6');
    expect(formatNumber(0.9731, 'percent')).toBe('97.3%');
    expect(formatNumber(3.456, 'speedup')).toBe('3.46×');
    expect(formatNumber(2.4, 'integer')).toBe('2');
    expect(formatNumber(0.1234, { decimals: 2, suffix: ' ms' })).toBe('0.12 ms');
    expect(formatNumber(-0.0001, { decimals: 2 })).toBe('0.00');
    expect(formatNumber(Number.NaN)).toBe('NaN');
    expect(formatNumber(Infinity, 'percent')).toBe('∞');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatPercent(0.5, 0)).toBe('50%');
    expect(formatCompact(1e-4)).toBe('1e-4');
    expect(formatCompact(25_000_000)).toBe('2.5e7');
    expect(formatCompact(12345.678)).toBe('12,350');
  });
});

describe('default tick labels', () => {
  const labels = (kind: 'linear' | 'log', low: number, high: number): string[] => {
    const scale = createScale(kind, [low, high], [0, 100]);
    return scale.ticks.map((t) => scale.formatTick(t));
  };

  it('uses one notation per axis', () => {
    expect(labels('linear', 0, 1)).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(labels('linear', 0, 5000)).toEqual(['0', '1,000', '2,000', '3,000', '4,000', '5,000']);
    expect(labels('linear', 0, 600_000)).toEqual(['0', '100k', '200k', '300k', '400k', '500k', '600k']);
    expect(labels('linear', 0, 1_200_000)).toEqual(['0', '0.2M', '0.4M', '0.6M', '0.8M', '1.0M', '1.2M']);
    expect(labels('log', 0.5, 20)).toEqual(['0.5', '1', '2', '5', '10', '20']);
    expect(labels('log', 1000, 1e7)).toEqual(['1e3', '1e4', '1e5', '1e6', '1e7']);
  });
});
