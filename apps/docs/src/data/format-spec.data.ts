import { readFileSync } from 'node:fs';
import {
  CONTAINER_HEADER_BYTES,
  compressedLayout,
  decompress,
  describePattern,
  loadCompressed,
  nmPattern,
  pruneByMagnitude,
  randomDense,
  saveCompressed,
} from '@nmkit/format';
import { defineLoader } from 'vitepress';

/** One row of the container's byte table, as documented in @nmkit/format's container.ts. */
export interface ContainerField {
  readonly offset: string;
  readonly size: string;
  /** HTML (inline code converted). */
  readonly field: string;
}

/** One line of the annotated dump of a real container. */
export interface DumpLine {
  readonly offset: number;
  readonly hex: string;
  readonly what: string;
  readonly value: string;
}

export interface FormatSpecData {
  readonly fields: readonly ContainerField[];
  readonly example: { readonly shape: string; readonly pattern: string; readonly totalBytes: number; readonly dense: string };
  readonly dump: readonly DumpLine[];
}

declare const data: FormatSpecData;
export { data };

/** The container example: K = 6 is not a multiple of group = 4 and N = 3 not a multiple of V = 2 (ragged). */
const EXAMPLE = { rows: 6, cols: 3, keep: 2, group: 4, vectorLength: 2, seed: 3 } as const;

/**
 * The container page's data: the byte table read from the source of `saveCompressed` (one place to change it),
 * and a real file written by `saveCompressed`, read back by `loadCompressed`, and decoded byte by byte.
 */
export default defineLoader({
  watch: ['../../../../packages/format/src/container.ts'],
  load(): FormatSpecData {
    const source = readFileSync(new URL('../../../../packages/format/src/container.ts', import.meta.url), 'utf8');
    const fields = parseByteTable(source);
    const { rows, cols, keep, group, vectorLength, seed } = EXAMPLE;
    const dense = randomDense(rows, cols, seed);
    const sparse = pruneByMagnitude(dense, nmPattern(keep, group, vectorLength));
    const bytes = saveCompressed(sparse);
    const back = loadCompressed(bytes); // the round trip must hold, or the site does not build
    if (back.values.some((v, i) => v !== sparse.values[i]) || back.indices.some((v, i) => v !== sparse.indices[i])) {
      throw new Error('container round trip changed the matrix');
    }
    return {
      fields,
      example: {
        shape: `${rows}×${cols}`,
        pattern: describePattern(sparse.pattern),
        totalBytes: bytes.length,
        dense: formatMatrix(decompress(sparse).data, rows, cols),
      },
      dump: dumpContainer(bytes, fields, sparse.pattern.keep, cols, compressedLayout(rows, cols, sparse.pattern)),
    };
  },
});

function parseByteTable(source: string): ContainerField[] {
  const rows = source
    .split('\n')
    .map((line) => /^\s*\*\s*\|(.+)\|\s*$/.exec(line)?.[1])
    .filter((row): row is string => row !== undefined)
    .map((row) => row.split('|').map((cell) => cell.trim()))
    .filter((cells) => cells.length === 3 && /^\d+$/.test(cells[0]));
  if (rows.length < 10) throw new Error(`container.ts: expected the byte table in the doc comment, found ${rows.length} rows`);
  return rows.map(([offset, size, field]) => ({ offset, size, field: inlineCode(field) }));
}

function inlineCode(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.replace(/`([^`]+)`/g, '<code>$1</code>');
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

function dumpContainer(
  bytes: Uint8Array,
  fields: readonly ContainerField[],
  keep: number,
  cols: number,
  layout: ReturnType<typeof compressedLayout>,
): DumpLine[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines: DumpLine[] = [];
  for (const field of fields) {
    const offset = Number(field.offset);
    const size = Number(field.size);
    if (!Number.isFinite(size) || offset >= CONTAINER_HEADER_BYTES) continue;
    const name = offset === 0 ? 'magic' : field.field.replace(/<[^>]+>/g, '').replace(/\s*\(.*$/, '');
    let value: string;
    if (offset === 0) value = Array.from(bytes.subarray(0, 8), printable).join(' ');
    else if (size === 1) value = String(bytes[offset]);
    else if (size === 2) value = String(view.getUint16(offset, true));
    else if (size === 4) value = name.startsWith('CRC') ? `0x${view.getUint32(offset, true).toString(16).padStart(8, '0')}` : String(view.getUint32(offset, true));
    else value = String(view.getBigUint64(offset, true));
    lines.push({ offset, hex: hex(bytes.subarray(offset, offset + size)), what: name, value });
  }
  let offset = CONTAINER_HEADER_BYTES;
  for (let w = 0; w < layout.keptRows; w++) {
    const row = Array.from({ length: cols }, (_, c) => view.getFloat32(offset + 4 * c, true));
    lines.push({
      offset,
      hex: hex(bytes.subarray(offset, offset + 4 * cols)),
      what: `values row w=${w} (window ${Math.floor(w / keep)}, kept row ${w % keep})`,
      value: row.map((v) => v.toFixed(4)).join(', '),
    });
    offset += 4 * cols;
  }
  for (let w = 0; w < layout.keptRows; w++) {
    lines.push({
      offset,
      hex: hex(bytes.subarray(offset, offset + layout.vectors)),
      what: `indices row w=${w} (one offset per vector)`,
      value: Array.from(bytes.subarray(offset, offset + layout.vectors)).join(', '),
    });
    offset += layout.vectors;
  }
  return lines;
}

/** A byte as a character when printable, else as an escape (\x89, \r, \n). */
function printable(byte: number): string {
  if (byte === 0x0d) return '\\r';
  if (byte === 0x0a) return '\\n';
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
}

function formatMatrix(data: Float32Array, rows: number, cols: number): string {
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    lines.push(Array.from(data.subarray(r * cols, (r + 1) * cols), (v) => v.toFixed(4).padStart(8)).join(' '));
  }
  return lines.join('\n');
}
