import { type CompressedNM, compressedLayout, type DenseMatrix, describePattern } from '@nmkit/format';
import { el, round, svgDocument, text } from './svg.js';

/** Fill colours for the j-th kept row of a window (the same colour marks it in B, values and indices). */
export const KEPT_COLORS = ['#bfdbfe', '#fed7aa', '#bbf7d0', '#e9d5ff', '#fecaca', '#fef08a', '#a5f3fc', '#fbcfe8'];
const PRUNED_FILL = '#f3f4f6';
const CELL = 36;

/**
 * Draws a real pruned example: dense B with its windows, vectors and kept cells, then the compressed `values`
 * and `indices` arrays, with the kept position inside each window colour-coded across all three.
 * @example formatFigure(b, pruneByMagnitude(b, nmPattern(2, 4, 4)))
 */
export function formatFigure(dense: DenseMatrix, sparse: CompressedNM): string {
  const { rows, cols, pattern } = sparse;
  const { keep, group, vectorLength } = pattern;
  const layout = compressedLayout(rows, cols, pattern);
  const parts: string[] = [];
  // B on top; values right below it (their columns line up with B's), indices beside the values.
  const top = 78;
  const denseX = 96;
  const valuesX = denseX;
  const valuesTop = top + rows * CELL + 64;
  const indicesX = denseX + cols * CELL + 44;
  const width = Math.max(indicesX + layout.vectors * CELL + 70, denseX + cols * CELL + 40, 560);
  const noteY = valuesTop + layout.keptRows * CELL + 30;
  const height = noteY + 56;

  // Which kept position j (0…keep−1) each dense cell is, for colouring; −1 when pruned.
  const keptPosition = new Int8Array(rows * cols).fill(-1);
  for (let w = 0; w < layout.keptRows; w++) {
    for (let v = 0; v < layout.vectors; v++) {
      const row = Math.floor(w / keep) * group + sparse.indices[w * layout.vectors + v];
      if (row >= rows) continue;
      for (let c = v * vectorLength; c < Math.min(cols, (v + 1) * vectorLength); c++) keptPosition[row * cols + c] = w % keep;
    }
  }

  const bold = { 'font-weight': 600, fill: 'currentColor' };
  parts.push(text(denseX - 60, 20, `Dense B (K=${rows} × N=${cols}), pruned to ${describePattern(pattern)}`, bold));
  parts.push(text(valuesX - 60, valuesTop - 20, `values (W=${layout.keptRows} × N=${cols}, float32)`, bold));
  parts.push(text(indicesX, valuesTop - 20, 'indices (uint8)', bold));

  // Vector brackets and column labels above B; the values below share its columns.
  for (let v = 0; v < layout.vectors; v++) {
    const a = denseX + v * vectorLength * CELL + 3;
    const b = denseX + Math.min(cols, (v + 1) * vectorLength) * CELL - 3;
    parts.push(el('path', { d: `M${a} ${top - 22}v-6H${b}v6`, fill: 'none', stroke: 'currentColor', 'stroke-width': 1 }));
    parts.push(text((a + b) / 2, top - 32, `vector ${v}`, { 'text-anchor': 'middle', fill: 'currentColor', 'font-size': 11 }));
    parts.push(text(indicesX + v * CELL + CELL / 2, valuesTop - 2, `v=${v}`, { 'text-anchor': 'middle', fill: '#6b7280', 'font-size': 10 }));
  }
  for (let c = 0; c < cols; c++) {
    parts.push(text(denseX + c * CELL + CELL / 2, top - 6, `n=${c}`, { 'text-anchor': 'middle', fill: '#6b7280', 'font-size': 10 }));
  }

  // Dense B: every cell, kept ones coloured by their position in the window.
  for (let r = 0; r < rows; r++) {
    const y = top + r * CELL;
    parts.push(text(denseX - 6, y + CELL / 2 + 4, `k=${r}`, { 'text-anchor': 'end', fill: '#6b7280', 'font-size': 10 }));
    for (let c = 0; c < cols; c++) {
      const j = keptPosition[r * cols + c];
      parts.push(cell(denseX + c * CELL, y, dense.data[r * cols + c], j >= 0 ? KEPT_COLORS[j % KEPT_COLORS.length] : PRUNED_FILL, j < 0));
    }
  }
  // Window separators and labels.
  for (let w = 0; w < layout.windows; w++) {
    const y0 = top + w * group * CELL;
    const y1 = top + Math.min(rows, (w + 1) * group) * CELL;
    parts.push(el('path', { d: `M${denseX - 46} ${y0 + 2}V${y1 - 2}`, stroke: 'currentColor', 'stroke-width': 1.5 }));
    parts.push(
      text(denseX - 54, (y0 + y1) / 2, `window ${w}`, {
        'text-anchor': 'middle',
        fill: 'currentColor',
        'font-size': 11,
        transform: `rotate(-90 ${denseX - 54} ${round((y0 + y1) / 2)})`,
      }),
    );
    if (w > 0) parts.push(el('path', { d: `M${denseX} ${y0}h${cols * CELL}`, stroke: 'currentColor', 'stroke-width': 2.5 }));
  }
  parts.push(verticalSeparators(denseX, top, rows, cols, vectorLength));

  // "compress" arrow from B down to the compressed arrays, right of B.
  const ax = denseX + cols * CELL + 22;
  parts.push(el('path', { d: `M${ax} ${top + rows * CELL - 30}V${valuesTop - 34}`, stroke: 'currentColor', 'stroke-width': 2, 'marker-end': 'url(#nm-arrow)' }));
  parts.push(text(ax + 8, top + rows * CELL + 10, 'compress', { fill: 'currentColor', 'font-size': 11 }));

  // values and indices, one row per kept row w.
  for (let w = 0; w < layout.keptRows; w++) {
    const y = valuesTop + w * CELL;
    const fill = KEPT_COLORS[(w % keep) % KEPT_COLORS.length];
    parts.push(text(valuesX - 6, y + CELL / 2 + 4, `w=${w}`, { 'text-anchor': 'end', fill: '#6b7280', 'font-size': 10 }));
    for (let c = 0; c < cols; c++) parts.push(cell(valuesX + c * CELL, y, sparse.values[w * cols + c], fill, false));
    for (let v = 0; v < layout.vectors; v++) {
      parts.push(cell(indicesX + v * CELL, y, sparse.indices[w * layout.vectors + v], fill, false, true));
    }
    if (w % keep === 0 && w > 0) {
      parts.push(el('path', { d: `M${valuesX} ${y}h${cols * CELL}`, stroke: 'currentColor', 'stroke-width': 2.5 }));
      parts.push(el('path', { d: `M${indicesX} ${y}h${layout.vectors * CELL}`, stroke: 'currentColor', 'stroke-width': 2.5 }));
    }
  }
  parts.push(verticalSeparators(valuesX, valuesTop, layout.keptRows, cols, vectorLength));

  // The rule that ties them together, with one worked instance from this example.
  const w = Math.min(layout.keptRows - 1, keep + 1 < layout.keptRows ? keep + 1 : 0);
  const n = Math.min(cols - 1, vectorLength + 1);
  const v = Math.floor(n / vectorLength);
  const offset = sparse.indices[w * layout.vectors + v];
  const row = group * Math.floor(w / keep) + offset;
  parts.push(text(denseX - 60, noteY, 'values[w][n] = B[group·⌊w/keep⌋ + indices[w][⌊n/V⌋]][n]', { fill: 'currentColor' }));
  parts.push(text(denseX - 60, noteY + 40, `Colours mark the j-th kept row of each window; ${keep} of every ${group} rows kept: ${Math.round((1 - keep / group) * 1000) / 10} % sparse.`, { fill: 'currentColor' }));
  parts.push(
    text(
      denseX - 60,
      noteY + 20,
      `For example values[${w}][${n}] = B[${group}·${Math.floor(w / keep)} + indices[${w}][${v}]][${n}] = B[${row}][${n}] = ${format(dense.data[row * cols + n])}` +
        '.',
      { fill: 'currentColor' },
    ),
  );

  const defs = el(
    'defs',
    {},
    el('marker', { id: 'nm-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, el('path', { d: 'M0 0L10 5L0 10z', fill: 'currentColor' })),
  );
  return svgDocument(width, height, `N:M format: dense B pruned to ${describePattern(pattern)} and its compressed values and indices`, defs + parts.join(''));
}

function cell(x: number, y: number, value: number, fill: string, pruned: boolean, integer = false): string {
  return (
    el('rect', { x, y, width: CELL, height: CELL, fill, stroke: '#ffffff', 'stroke-width': 1.5 }) +
    text(x + CELL / 2, y + CELL / 2 + 4, integer ? String(value) : format(value), {
      'text-anchor': 'middle',
      'font-size': integer ? 13 : 10.5,
      fill: pruned ? '#9ca3af' : '#111827',
      'font-family': 'ui-monospace, monospace',
    })
  );
}

function verticalSeparators(x0: number, y0: number, rows: number, cols: number, vectorLength: number): string {
  let out = '';
  for (let c = vectorLength; c < cols; c += vectorLength) {
    out += el('path', { d: `M${x0 + c * CELL} ${y0}v${rows * CELL}`, stroke: 'currentColor', 'stroke-width': 1.5, 'stroke-dasharray': '5 3' });
  }
  return out;
}

function format(value: number): string {
  return value.toFixed(2).replace('-0.00', '0.00');
}
