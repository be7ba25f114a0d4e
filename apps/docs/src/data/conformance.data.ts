import { conformanceCases } from '@nmkit/format/conformance';
import { defineLoader } from 'vitepress';

/** The suite's cases grouped as the contributing page lists them. */
export interface ConformanceData {
  readonly total: number;
  readonly quickTotal: number;
  readonly groups: readonly { readonly group: string; readonly ids: readonly string[] }[];
}

declare const data: ConformanceData;
export { data };

/** Reads the case list from @nmkit/format/conformance itself, so the page always matches the suite. */
export default defineLoader({
  load(): ConformanceData {
    const cases = conformanceCases('full');
    const groups = new Map<string, string[]>();
    for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c.id]);
    return {
      total: cases.length,
      quickTotal: conformanceCases('quick').length,
      groups: [...groups].map(([group, ids]) => ({ group, ids })),
    };
  },
});
