import { type CompressedNM, compressedLayout, validateCompressed } from './compressed.js';
import { crc32 } from './crc32.js';
import { ContainerError, NMError } from './errors.js';
import { MAX_GROUP } from './pattern.js';

/**
 * The `.nmk` container: one compressed matrix, little-endian, a fixed 64-byte header then the payload.
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 8 | magic `89 4E 4D 4B 0D 0A 1A 0A` ("\x89NMK\r\n\x1a\n": catches text-mode and 7-bit mangling) |
 * | 8 | 2 | format version (1) |
 * | 10 | 2 | header size (64) |
 * | 12 | 1 | value dtype (1 = float32) |
 * | 13 | 1 | index dtype (1 = uint8 in-window offset) |
 * | 14 | 2 | flags (0; reserved) |
 * | 16 | 4 | rows K |
 * | 20 | 4 | cols N |
 * | 24 | 2 | keep |
 * | 26 | 2 | group |
 * | 28 | 4 | vectorLength |
 * | 32 | 8 | values byte length (keptRows·N·4) |
 * | 40 | 8 | indices byte length (keptRows·vectors) |
 * | 48 | 4 | CRC-32 of the payload |
 * | 52 | 8 | reserved (0) |
 * | 60 | 4 | CRC-32 of bytes 0–59 |
 * | 64 | … | values (float32), then indices (uint8); nothing after |
 */
export const CONTAINER_MAGIC = Uint8Array.of(0x89, 0x4e, 0x4d, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a);
/** Format version written at offset 8; {@link loadCompressed} reads only this version. */
export const CONTAINER_VERSION = 1;
/** Size of the fixed header in bytes; the payload starts right after it. */
export const CONTAINER_HEADER_BYTES = 64;

/** Largest value of the header's uint32 fields (rows K, cols N, vectorLength). */
const UINT32_MAX = 0xffff_ffff;

const DTYPE_FLOAT32 = 1;
const INDEX_UINT8 = 1;
const littleEndianHost = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Limits applied while loading, so a hostile header cannot make us allocate without bound. */
export interface LoadOptions {
  /** Largest payload accepted, in bytes (default 4 GiB). */
  readonly maxPayloadBytes?: number;
}

/**
 * Serialises a compressed matrix (validated first) into container bytes.
 * @throws {ContainerError} when K, N or the vector length does not fit the header's uint32 fields.
 * @example await fs.writeFile('layer0.nmk', saveCompressed(sparse));
 */
export function saveCompressed(matrix: CompressedNM): Uint8Array {
  const layout = validateCompressed(matrix);
  // K, N and V are stored as uint32: a larger value would wrap and write a file loadCompressed() rejects.
  const uint32Fields = [
    ['rows (K)', matrix.rows, 'split the matrix into blocks of fewer rows.'],
    ['cols (N)', matrix.cols, 'split the matrix into blocks of fewer columns.'],
    ['vectorLength', matrix.pattern.vectorLength, `save it with vectorLength = cols (${matrix.cols}): any V ≥ N is one vector, the same matrix.`],
  ] as const;
  for (const [field, value, fix] of uint32Fields) {
    if (value > UINT32_MAX) {
      throw new ContainerError(`Cannot save: ${field} = ${value} exceeds the container's uint32 limit of ${UINT32_MAX}.`, fix);
    }
  }
  const valuesBytes = layout.valuesLength * 4;
  const out = new Uint8Array(CONTAINER_HEADER_BYTES + valuesBytes + layout.indicesLength);
  const view = new DataView(out.buffer);
  out.set(CONTAINER_MAGIC, 0);
  view.setUint16(8, CONTAINER_VERSION, true);
  view.setUint16(10, CONTAINER_HEADER_BYTES, true);
  out[12] = DTYPE_FLOAT32;
  out[13] = INDEX_UINT8;
  view.setUint32(16, matrix.rows, true);
  view.setUint32(20, matrix.cols, true);
  view.setUint16(24, matrix.pattern.keep, true);
  view.setUint16(26, matrix.pattern.group, true);
  view.setUint32(28, matrix.pattern.vectorLength, true);
  view.setBigUint64(32, BigInt(valuesBytes), true);
  view.setBigUint64(40, BigInt(layout.indicesLength), true);
  const payload = out.subarray(CONTAINER_HEADER_BYTES);
  if (littleEndianHost) {
    payload.set(new Uint8Array(matrix.values.buffer, matrix.values.byteOffset, valuesBytes));
  } else {
    for (let i = 0; i < matrix.values.length; i++) view.setFloat32(CONTAINER_HEADER_BYTES + 4 * i, matrix.values[i], true);
  }
  payload.set(matrix.indices, valuesBytes);
  view.setUint32(48, crc32(payload), true);
  view.setUint32(60, crc32(out.subarray(0, 60)), true);
  return out;
}

/**
 * Parses container bytes. Every header field is checked before anything is allocated, lengths are recomputed
 * from the shape and compared with the stored ones and with the file size, both checksums are verified, and
 * the result passes {@link validateCompressed}.
 * @throws {ContainerError} for anything truncated, corrupted, unsupported or inconsistent.
 */
export function loadCompressed(bytes: Uint8Array | ArrayBuffer, options: LoadOptions = {}): CompressedNM {
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(data instanceof Uint8Array)) throw new ContainerError('Expected the container as a Uint8Array or ArrayBuffer.');
  if (data.length < CONTAINER_HEADER_BYTES) {
    throw new ContainerError(
      `Truncated container: ${data.length} bytes, shorter than the ${CONTAINER_HEADER_BYTES}-byte header.`,
    );
  }
  for (let i = 0; i < CONTAINER_MAGIC.length; i++) {
    if (data[i] !== CONTAINER_MAGIC[i]) {
      throw new ContainerError('Not an nmkit container (bad magic bytes).', 'pass a file written by saveCompressed().');
    }
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = view.getUint16(8, true);
  if (version !== CONTAINER_VERSION) {
    throw new ContainerError(
      `Container format version ${version} is not supported (this build reads version ${CONTAINER_VERSION}).`,
      version > CONTAINER_VERSION ? 'upgrade @nmkit/format.' : undefined,
    );
  }
  if (crc32(data.subarray(0, 60)) !== view.getUint32(60, true)) {
    throw new ContainerError('Container header is corrupted (header checksum mismatch).');
  }
  const headerBytes = view.getUint16(10, true);
  if (headerBytes !== CONTAINER_HEADER_BYTES) {
    throw new ContainerError(`Container header size ${headerBytes} is not ${CONTAINER_HEADER_BYTES}.`);
  }
  if (data[12] !== DTYPE_FLOAT32 || data[13] !== INDEX_UINT8) {
    throw new ContainerError(`Unsupported dtypes in container: values ${data[12]}, indices ${data[13]} (want 1, 1).`);
  }
  if (view.getUint16(14, true) !== 0 || view.getBigUint64(52, true) !== 0n) {
    throw new ContainerError('Container uses reserved flags or fields this version does not understand.');
  }
  const rows = view.getUint32(16, true);
  const cols = view.getUint32(20, true);
  const pattern = { keep: view.getUint16(24, true), group: view.getUint16(26, true), vectorLength: view.getUint32(28, true) };
  if (rows < 1 || cols < 1 || pattern.group < 1 || pattern.group > MAX_GROUP || pattern.keep < 1 || pattern.keep > pattern.group || pattern.vectorLength < 1) {
    throw new ContainerError(
      `Container header describes an invalid matrix: ${rows}×${cols}, pattern ${pattern.keep}:${pattern.group} (V=${pattern.vectorLength}).`,
    );
  }
  const layout = compressedLayout(rows, cols, pattern);
  const valuesBytes = layout.valuesLength * 4;
  const payloadBytes = valuesBytes + layout.indicesLength;
  const maxPayload = options.maxPayloadBytes ?? 2 ** 32;
  if (payloadBytes > maxPayload) {
    throw new ContainerError(
      `Container payload would be ${payloadBytes} bytes, over the limit of ${maxPayload}.`,
      'raise LoadOptions.maxPayloadBytes if the file is trusted.',
    );
  }
  if (view.getBigUint64(32, true) !== BigInt(valuesBytes) || view.getBigUint64(40, true) !== BigInt(layout.indicesLength)) {
    throw new ContainerError(
      `Container lengths disagree with its shape: ${rows}×${cols} at ${pattern.keep}:${pattern.group} needs ` +
        `${valuesBytes} value bytes and ${layout.indicesLength} index bytes.`,
    );
  }
  const expectedLength = CONTAINER_HEADER_BYTES + payloadBytes;
  if (data.length !== expectedLength) {
    throw new ContainerError(
      `Container is ${data.length} bytes but its header describes ${expectedLength}` +
        (data.length < expectedLength ? ' (truncated).' : ' (trailing bytes).'),
    );
  }
  const payload = data.subarray(CONTAINER_HEADER_BYTES);
  if (crc32(payload) !== view.getUint32(48, true)) {
    throw new ContainerError('Container payload is corrupted (checksum mismatch).');
  }
  const values = new Float32Array(layout.valuesLength);
  if (littleEndianHost) {
    new Uint8Array(values.buffer).set(payload.subarray(0, valuesBytes));
  } else {
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(CONTAINER_HEADER_BYTES + 4 * i, true);
  }
  const indices = payload.slice(valuesBytes, payloadBytes);
  const matrix: CompressedNM = { rows, cols, pattern, values, indices };
  try {
    validateCompressed(matrix);
  } catch (error) {
    if (error instanceof NMError) throw new ContainerError(`Container holds an invalid matrix: ${error.message}`);
    throw error;
  }
  return matrix;
}
