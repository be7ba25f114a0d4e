/** Tiny SVG building helpers shared by the figure generators (no DOM: they run at build time in Node). */

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Attribute map → ` key="value"` string; undefined values are dropped. */
function attributes(attrs: Record<string, string | number | undefined>): string {
  return Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
}

/** One SVG element; `children` is already-serialised markup. */
export function el(tag: string, attrs: Record<string, string | number | undefined>, children = ''): string {
  return children ? `<${tag}${attributes(attrs)}>${children}</${tag}>` : `<${tag}${attributes(attrs)}/>`;
}

/** A text element (content escaped). */
export function text(x: number, y: number, content: string, attrs: Record<string, string | number | undefined> = {}): string {
  return el('text', { x: round(x), y: round(y), ...attrs }, escapeXml(content));
}

/** The root element with a viewBox, so the figure scales with the page; `title` is its accessible name. */
export function svgDocument(width: number, height: number, title: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
    `role="img" aria-label="${escapeXml(title)}" font-family="ui-sans-serif, system-ui, sans-serif" font-size="12">` +
    `<title>${escapeXml(title)}</title>${body}</svg>`
  );
}

/** Rounds coordinates so the markup stays short and stable. */
export function round(value: number): number {
  return Math.round(value * 100) / 100;
}
