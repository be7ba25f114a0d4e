import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTAINER_HEADER_BYTES,
  ContainerError,
  crc32,
  loadCompressed,
  NMError,
  nmPattern,
  randomCompressed,
  saveCompressed,
} from '../src/index.js';

const sample = () => randomCompressed(70, 45, nmPattern(3, 7, 8), 11);

/** Rewrites a header field and fixes the header checksum, as a hostile writer would. */
function withHeader(bytes: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  edit(view);
  view.setUint32(60, crc32(copy.subarray(0, 60)), true);
  return copy;
}

describe('container file', () => {
  it('round-trips exactly', () => {
    const m = sample();
    const loaded = loadCompressed(saveCompressed(m));
    expect(loaded.rows).toBe(70);
    expect(loaded.cols).toBe(45);
    expect(loaded.pattern).toEqual(m.pattern);
    expect(loaded.values).toEqual(m.values);
    expect(loaded.indices).toEqual(m.indices);
  });

  it('has the documented header layout', () => {
    const bytes = saveCompressed(sample());
    const view = new DataView(bytes.buffer);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x4e, 0x4d, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(view.getUint16(8, true)).toBe(1);
    expect(view.getUint32(16, true)).toBe(70);
    expect(view.getUint16(24, true)).toBe(3);
    expect(view.getUint16(26, true)).toBe(7);
    expect(view.getUint32(28, true)).toBe(8);
    expect(bytes.length).toBe(CONTAINER_HEADER_BYTES + 30 * 45 * 4 + 30 * 6);
  });

  it.each([
    ['truncated header', (b: Uint8Array) => b.subarray(0, 40), /Truncated/],
    ['truncated payload', (b: Uint8Array) => b.subarray(0, b.length - 1), /truncated/],
    ['trailing bytes', (b: Uint8Array) => Uint8Array.of(...b, 0), /trailing/],
    ['bad magic', (b: Uint8Array) => Uint8Array.of(0, ...b.subarray(1)), /magic/],
    ['newer version', (b: Uint8Array) => withHeader(b, (v) => v.setUint16(8, 9, true)), /version 9/],
    ['corrupt header', (b: Uint8Array) => { const c = b.slice(); c[17] ^= 1; return c; }, /header checksum/],
    ['corrupt payload', (b: Uint8Array) => { const c = b.slice(); c[100] ^= 1; return c; }, /payload is corrupted/],
    ['keep > group', (b: Uint8Array) => withHeader(b, (v) => v.setUint16(24, 9, true)), /invalid matrix/],
    ['lying lengths', (b: Uint8Array) => withHeader(b, (v) => v.setBigUint64(32, 4n, true)), /disagree/],
    ['huge shape', (b: Uint8Array) => withHeader(b, (v) => { v.setUint32(16, 0xffffffff, true); v.setUint32(20, 0xffffffff, true); }), /over the limit/],
    ['reserved flags', (b: Uint8Array) => withHeader(b, (v) => v.setUint16(14, 1, true)), /reserved/],
  ])('rejects %s with a ContainerError', (_name, mangle, message) => {
    const bytes = mangle(saveCompressed(sample()));
    expect(() => loadCompressed(bytes)).toThrow(ContainerError);
    expect(() => loadCompressed(bytes)).toThrow(message);
  });

  it('refuses to save a vector length that does not fit the uint32 header field, and round-trips the largest that does', () => {
    const wide = randomCompressed(8, 4, { keep: 2, group: 4, vectorLength: 2 ** 32 }, 4);
    expect(() => saveCompressed(wide)).toThrow(ContainerError);
    expect(() => saveCompressed(wide)).toThrow(/vectorLength = 4294967296 exceeds the container's uint32 limit of 4294967295/);
    const widest = { ...wide, pattern: { ...wide.pattern, vectorLength: 2 ** 32 - 1 } };
    expect(loadCompressed(saveCompressed(widest)).pattern.vectorLength).toBe(2 ** 32 - 1);
  });

  it('rejects a checksummed payload whose indices break the format', () => {
    const m = sample();
    m.indices[0] = 200;
    // Write it by hand: saveCompressed refuses invalid matrices.
    const good = saveCompressed(sample());
    const bytes = good.slice();
    const payload = bytes.subarray(CONTAINER_HEADER_BYTES);
    payload.set(m.indices, 30 * 45 * 4);
    new DataView(bytes.buffer).setUint32(48, crc32(payload), true);
    new DataView(bytes.buffer).setUint32(60, crc32(bytes.subarray(0, 60)), true);
    expect(() => loadCompressed(bytes)).toThrow(/invalid matrix/);
  });

  it('never crashes or throws anything but a ContainerError on random mutations (fuzz)', () => {
    const original = saveCompressed(randomCompressed(20, 9, nmPattern(2, 4, 4), 3));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(original.length + 8),
        fc.boolean(),
        (edits, cut, fixChecksums) => {
          let bytes = original.slice();
          for (const [at, value] of edits) bytes[at] = value;
          if (cut < bytes.length) bytes = bytes.subarray(0, cut);
          if (fixChecksums && bytes.length >= CONTAINER_HEADER_BYTES) {
            const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
            view.setUint32(48, crc32(bytes.subarray(CONTAINER_HEADER_BYTES)), true);
            view.setUint32(60, crc32(bytes.subarray(0, 60)), true);
          }
          try {
            const loaded = loadCompressed(bytes);
            // Anything accepted must be a self-consistent matrix that saves back to the same bytes.
            expect(saveCompressed(loaded)).toEqual(bytes);
          } catch (error) {
            expect(NMError.isInstance(error) && error.code === 'CONTAINER').toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but a ContainerError on arbitrary bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(() => loadCompressed(bytes)).toThrow(ContainerError);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});
