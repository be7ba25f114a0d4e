import type { DenseMatrix } from '../dense.js';
import { NMError, type NMErrorCode } from '../errors.js';
import { compareWithReference, type ReferenceResult } from '../reference.js';

/** Throws unless every entry of C is within the float32 error bound of the reference (sums of `terms` products). */
export function expectClose(c: DenseMatrix, ref: ReferenceResult, terms: number, what: string): void {
  const result = compareWithReference(c.data, ref, terms);
  if (!result.ok) {
    const [row, col, got, expected, bound] = result.firstMismatch ?? [-1, -1, Number.NaN, Number.NaN, 0];
    throw new Error(`${what}: element (${row}, ${col}) is ${got}, expected ${expected} ± ${bound.toExponential(2)}`);
  }
}

export function expectExactly(c: DenseMatrix, expected: number[], what: string): void {
  const got = Array.from(c.data);
  if (got.length !== expected.length || got.some((v, i) => v !== expected[i])) {
    throw new Error(`${what} is [${got.join(', ')}], expected [${expected.join(', ')}]`);
  }
}

/** Throws unless `action` rejects with an NMError of `code` whose message mentions `mention`. */
export async function expectCode(code: NMErrorCode, what: string, action: () => Promise<unknown>, mention?: string): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!NMError.isInstance(error)) throw new Error(`${what}: expected an NMError (${code}), got ${String(error)}`);
    if (error.code !== code) throw new Error(`${what}: expected code ${code}, got ${error.code}: ${error.message}`);
    if (mention && !error.message.includes(mention)) throw new Error(`${what}: message should mention "${mention}": ${error.message}`);
    return;
  }
  throw new Error(`${what}: expected a ${code} error, but the call succeeded`);
}
