/** Attribute values: strings are escaped, numbers must be finite (a NaN coordinate is a bug, so it throws). */
export type SvgAttributes = Readonly<Record<string, string | number | undefined>>;

/** Escapes text and attribute values for XML. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function formatNumber(name: string, value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`SVG attribute ${name} would be ${value}`);
  return String(Math.round(value * 100) / 100);
}

function attributes(attrs: SvgAttributes): string {
  return Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? formatNumber(k, v) : escapeXml(v as string)}"`)
    .join('');
}

/**
 * A tiny SVG writer: elements are appended in order and serialised with escaped text and checked numbers.
 * @example
 * const svg = new SvgWriter(200, 100);
 * svg.line(0, 0, 200, 100, { stroke: 'black' });
 * svg.text(10, 20, 'a < b');
 * svg.toString(); // '<svg xmlns=... width="200" height="100" ...>...</svg>'
 */
export class SvgWriter {
  private readonly parts: string[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    formatNumber('width', width);
    formatNumber('height', height);
  }

  /** Any empty element, e.g. `element('rect', { x: 0, y: 0, width: 10, height: 10 })`. */
  element(name: string, attrs: SvgAttributes): this {
    this.parts.push(`<${name}${attributes(attrs)}/>`);
    return this;
  }

  line(x1: number, y1: number, x2: number, y2: number, attrs: SvgAttributes = {}): this {
    return this.element('line', { x1, y1, x2, y2, stroke: '#000', ...attrs });
  }

  /** A polyline through `points` (at least two). */
  polyline(points: readonly (readonly [number, number])[], attrs: SvgAttributes = {}): this {
    const text = points.map(([x, y]) => `${formatNumber('x', x)},${formatNumber('y', y)}`).join(' ');
    return this.element('polyline', { points: text, fill: 'none', stroke: '#000', ...attrs });
  }

  circle(cx: number, cy: number, r: number, attrs: SvgAttributes = {}): this {
    return this.element('circle', { cx, cy, r, ...attrs });
  }

  rect(x: number, y: number, width: number, height: number, attrs: SvgAttributes = {}): this {
    return this.element('rect', { x, y, width, height, ...attrs });
  }

  /** Text at (x, y); `content` is escaped. */
  text(x: number, y: number, content: string, attrs: SvgAttributes = {}): this {
    this.parts.push(`<text${attributes({ x, y, ...attrs })}>${escapeXml(content)}</text>`);
    return this;
  }

  toString(): string {
    const head =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" ` +
      `viewBox="0 0 ${this.width} ${this.height}" font-family="sans-serif" font-size="12">`;
    return `${head}\n${this.parts.join('\n')}\n</svg>\n`;
  }
}
