let panel = new Float64Array(0);

/**
 * This thread's packed-A panel buffer, grown on demand and reused (one per worker, so nothing is allocated
 * per tile). Contents are garbage: callers fill what they read.
 */
export function panelScratch(length: number): Float64Array {
  if (panel.length < length) panel = new Float64Array(Math.max(length, panel.length * 2));
  return panel;
}
