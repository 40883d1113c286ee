/**
 * Weight sharing by one-dimensional k-means (Deep Compression, Han, Mao & Dally 2016, section 3): the stored
 * weights of one layer are clustered into at most 2^bits groups, and each weight is replaced by its group's
 * centroid, so the file keeps a small codebook plus a `bits`-bit index per weight.
 *
 * Centroids start evenly spaced over [min, max] of the weights ("linear initialisation", which the paper found
 * best: it keeps a few centroids on the rare large weights, which matter most). Lloyd iterations then assign
 * each weight to its nearest centroid and move each centroid to the mean of its members. In one dimension the
 * nearest centroid of sorted data changes at the midpoints between sorted centroids, so one iteration is a
 * single sweep over the sorted weights: O(n log n) to sort once, then O(n + K) per iteration.
 * Deterministic: no random choice is involved. Groups left empty are dropped, so codebook.length ≤ 2^bits.
 */

import { ConfigError } from '../errors.ts';
import { MAX_CODEBOOK_BITS, MIN_CODEBOOK_BITS } from '../io/encodings/quantized-values.ts';

/** Settings of kmeansCodebook. */
export interface KmeansOptions {
  /** Most Lloyd iterations (default 30); they stop early once no assignment changes. */
  readonly maxIterations?: number;
}

/** The result of kmeansCodebook: ascending shared values and, per input value, the index of its centroid. */
export interface KmeansResult {
  readonly codebook: Float32Array;
  readonly codes: Uint8Array;
}

/**
 * Clusters `values` (finite float32) into at most 2^bits groups by k-means with linear initialisation (see the
 * file comment). Returns the codebook (ascending, float32) and each value's code. An empty input gives an
 * empty result; ConfigError for bits outside 1…8 or a non-finite value.
 */
export function kmeansCodebook(values: Float32Array, bits: number, options: KmeansOptions = {}): KmeansResult {
  if (!Number.isInteger(bits) || bits < MIN_CODEBOOK_BITS || bits > MAX_CODEBOOK_BITS) {
    throw new ConfigError(`kmeansCodebook: bits must be an integer in ${MIN_CODEBOOK_BITS}…${MAX_CODEBOOK_BITS}, got ${bits}`);
  }
  const maxIterations = options.maxIterations ?? 30;
  if (!Number.isInteger(maxIterations) || maxIterations < 0) throw new ConfigError(`kmeansCodebook: maxIterations must be a non-negative integer, got ${maxIterations}`);
  const n = values.length;
  if (n === 0) return { codebook: new Float32Array(0), codes: new Uint8Array(0) };
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i] as number)) throw new ConfigError(`kmeansCodebook: value ${i} is ${values[i]}`);

  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
  const sorted = Float64Array.from(order, (i) => values[i] as number);
  const min = sorted[0] as number;
  const max = sorted[n - 1] as number;
  let k = min === max ? 1 : 2 ** bits;
  let centroids = Float64Array.from({ length: k }, (_, c) => (k === 1 ? min : min + ((max - min) * c) / (k - 1)));

  // firstMember[c] = the first sorted position assigned to centroid c (firstMember[k] = n). Empty groups are
  // dropped as soon as they appear: the means of consecutive runs of sorted data stay ascending, which the
  // midpoint sweep needs, and no value has a dropped centroid as its nearest one.
  let firstMember = assignSorted(sorted, centroids);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    [centroids, firstMember] = dropEmpty(centroids, firstMember);
    const previous = firstMember;
    centroids = Float64Array.from({ length: centroids.length }, (_, c) => {
      let sum = 0;
      for (let p = previous[c] as number; p < (previous[c + 1] as number); p++) sum += sorted[p] as number;
      return sum / ((previous[c + 1] as number) - (previous[c] as number));
    });
    firstMember = assignSorted(sorted, centroids);
    if (firstMember.every((v, c) => v === previous[c])) break;
  }
  // Every value ends assigned to its nearest centroid, even when the iterations ran out before converging.
  [centroids, firstMember] = dropEmpty(centroids, firstMember);
  k = centroids.length;

  const codebook = Float32Array.from(centroids);
  const codes = new Uint8Array(n);
  for (let c = 0; c < k; c++) {
    for (let p = firstMember[c] as number; p < (firstMember[c + 1] as number); p++) codes[order[p] as number] = c;
  }
  return { codebook, codes };
}

/** The centroids whose groups are not empty, and their groups' first positions. */
function dropEmpty(centroids: Float64Array, firstMember: Int32Array): [Float64Array<ArrayBuffer>, Int32Array<ArrayBuffer>] {
  const kept: number[] = [];
  for (let c = 0; c < centroids.length; c++) if ((firstMember[c] as number) < (firstMember[c + 1] as number)) kept.push(c);
  return [Float64Array.from(kept, (c) => centroids[c] as number), Int32Array.from([...kept.map((c) => firstMember[c] as number), firstMember[centroids.length] as number])];
}

/**
 * For ascending centroids and ascending data, the first data position of each centroid's group: a value goes
 * to the nearest centroid (ties to the lower one), so the groups are consecutive runs split at midpoints.
 */
function assignSorted(sorted: Float64Array, centroids: Float64Array): Int32Array {
  const k = centroids.length;
  const first = new Int32Array(k + 1);
  let position = 0;
  for (let c = 0; c < k; c++) {
    first[c] = position;
    if (c === k - 1) break;
    const boundary = ((centroids[c] as number) + (centroids[c + 1] as number)) / 2;
    while (position < sorted.length && (sorted[position] as number) <= boundary) position++;
  }
  first[k] = sorted.length;
  return first;
}
