import { describe, expect, it } from 'vitest';
import { SparseFormatError } from '../../src/errors.ts';
import { CSRMatrix, validateCsr } from '../../src/sparse/index.ts';

const i32 = (a: number[]): Int32Array => Int32Array.from(a);
const f32 = (a: number[]): Float32Array => Float32Array.from(a);

/** Calls validateCsr and returns the SparseFormatError message (fails the test if nothing or something else is thrown). */
function defect(nRows: number, nCols: number, indptr: number[], indices: number[], values: number[]): string {
  try {
    validateCsr(nRows, nCols, i32(indptr), i32(indices), f32(values));
  } catch (error) {
    expect(error).toBeInstanceOf(SparseFormatError);
    return (error as Error).message;
  }
  throw new Error('validateCsr accepted a malformed structure');
}

describe('validateCsr', () => {
  it('accepts canonical structures, including empty ones', () => {
    expect(() => validateCsr(2, 3, i32([0, 1, 3]), i32([2, 0, 1]), f32([1, 2, 3]))).not.toThrow();
    expect(() => validateCsr(0, 0, i32([0]), i32([]), f32([]))).not.toThrow();
    expect(() => validateCsr(3, 5, i32([0, 0, 0, 0]), i32([]), f32([]))).not.toThrow();
  });

  it('rejects an indptr of the wrong length, naming both lengths', () => {
    const message = defect(2, 3, [0, 1], [0], [1]);
    expect(message).toMatch(/indptr has length 2/);
    expect(message).toMatch(/nRows \+ 1 = 3/);
  });

  it('rejects indices and values of different lengths, naming both', () => {
    const message = defect(1, 3, [0, 2], [0, 1], [1]);
    expect(message).toMatch(/indices has length 2 but values has length 1/);
  });

  it('rejects indptr[0] != 0', () => {
    expect(defect(1, 3, [1, 1], [0], [1])).toMatch(/indptr\[0\] must be 0, got 1/);
  });

  it('rejects indptr[nRows] != nnz', () => {
    expect(defect(2, 3, [0, 1, 1], [0, 1], [1, 2])).toMatch(/indptr\[2\] = 1 but nnz .* = 2/);
  });

  it('rejects non-monotone row pointers, naming the row', () => {
    expect(defect(3, 3, [0, 2, 1, 3], [0, 1, 2], [1, 2, 3])).toMatch(/not monotone at row 1/);
  });

  it('rejects a column index out of range, naming the position', () => {
    expect(defect(2, 3, [0, 1, 2], [0, 3], [1, 2])).toMatch(/column index 3 at position 1 is out of range \[0, 3\)/);
    expect(defect(1, 3, [0, 1], [-1], [1])).toMatch(/column index -1 at position 0/);
  });

  it('rejects unsorted columns, naming the row', () => {
    expect(defect(2, 4, [0, 1, 3], [0, 3, 1], [1, 2, 3])).toMatch(/row 1 has an unsorted column index 1 at position 2/);
  });

  it('rejects duplicate columns, naming the row', () => {
    expect(defect(2, 4, [0, 2, 2], [1, 1], [1, 2])).toMatch(/row 0 has a duplicate column index 1/);
  });

  it('rejects bad dimensions and array types', () => {
    expect(() => validateCsr(-1, 3, i32([0]), i32([]), f32([]))).toThrow(SparseFormatError);
    expect(() => validateCsr(1.5, 3, i32([0]), i32([]), f32([]))).toThrow(/nRows/);
    expect(() => validateCsr(1, 3, [0, 0] as unknown as Int32Array, i32([]), f32([]))).toThrow(/Int32Array/);
  });

  it('guards the CSRMatrix constructor', () => {
    expect(() => new CSRMatrix(1, 2, i32([0, 2]), i32([1, 0]), f32([1, 2]))).toThrow(SparseFormatError);
  });
});
