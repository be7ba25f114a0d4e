import { readFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';
import { defineLoader } from 'vitepress';

/** One benchmark run: a folder packages/bench/results/<suite>-<device>/ with JSON, Markdown and SVG files. */
export interface BenchRun {
  /** Folder name, also the page anchor. */
  readonly id: string;
  readonly folder: string;
  readonly suite: string;
  readonly device: string;
  readonly date: string;
  readonly cases: number;
  /** The run's Markdown summary rendered to HTML, its charts inlined. */
  readonly html: string;
}

export interface BenchmarksData {
  readonly runs: readonly BenchRun[];
  /** Files that were found but could not be read, with the reason (shown on the page, never hidden). */
  readonly problems: readonly string[];
}

declare const data: BenchmarksData;
export { data };

/** Where runs are read from; NMKIT_BENCH_RESULTS (an absolute path) previews results kept elsewhere. */
const RESULTS = process.env.NMKIT_BENCH_RESULTS ?? '../../../../packages/bench/results';
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * Reads every run under packages/bench/results/ at build time: the JSON for the index (suite, device, date),
 * the Markdown summary (written by the bench from the same JSON) for the tables, the SVG files for the charts.
 * Nothing is typed by hand; with no results the page says so.
 */
export default defineLoader({
  watch: [`${RESULTS}/*/*.json`, `${RESULTS}/*/*.md`, `${RESULTS}/*/*.svg`],
  async load(files: string[]): Promise<BenchmarksData> {
    try {
      return await loadRuns(files);
    } catch (error) {
      // VitePress waits forever on a loader that throws during a build: fail loudly instead.
      console.error('benchmarks.data.ts failed:', error);
      process.exit(1);
    }
  },
});

async function loadRuns(files: string[]): Promise<BenchmarksData> {
    const byFolder = new Map<string, string[]>();
    for (const file of files) byFolder.set(dirname(file), [...(byFolder.get(dirname(file)) ?? []), file]);
    // Plain markdown-it: the summaries are tables, lists and images (VitePress's renderer would start Shiki
    // workers that keep the build process alive).
    const md = new MarkdownIt({ html: false, linkify: false });
    const runs: BenchRun[] = [];
    const problems: string[] = [];
    for (const [folder, folderFiles] of [...byFolder].sort(([a], [b]) => a.localeCompare(b))) {
      const id = basename(folder);
      const where = relative(repoRoot, folder);
      try {
        const jsonFile = folderFiles.find((f) => f.endsWith('.json'));
        const json = jsonFile ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as RunJson) : undefined;
        const svgs = new Map(folderFiles.filter((f) => f.endsWith('.svg')).map((f) => [basename(f), readFileSync(f, 'utf8')]));
        const summary = folderFiles.find((f) => f.endsWith('.md'));
        let html = summary ? md.render(readFileSync(summary, 'utf8')) : '';
        html = html.replace(/<h1[^>]*>[\s\S]*?<\/h1>/, ''); // the page supplies the heading
        // The run is a section (h2) of the page: its own headings move one level down.
        html = html.replace(/<(\/?)h([2-5])(\s|>)/g, (_, slash: string, level: string, after: string) => `<${slash}h${Number(level) + 1}${after}`);
        // Charts referenced as images are inlined (the SVG files are not copied into the site); links to the
        // run's own files point at nothing in the site, so they become plain text naming the file.
        const used = new Set<string>();
        html = html.replace(/<img\s[^>]*src="([^"]+\.svg)"[^>]*>/g, (tag, src: string) => {
          const svg = svgs.get(basename(src));
          if (!svg) return tag.replace(/<img/, '<img data-missing');
          used.add(basename(src));
          return `<span class="nm-figure nm-bench-chart">${stripXmlProlog(svg)}</span>`;
        });
        html = html.replace(/<a href="(?!https?:|#)([^"]*)"[^>]*>([\s\S]*?)<\/a>/g, (_, href: string, text: string) => `${text} (<code>${where}/${href}</code>)`);
        for (const [name, svg] of svgs) {
          if (!used.has(name)) html += `<div class="nm-figure nm-bench-chart">${stripXmlProlog(svg)}</div>`;
        }
        const best = json?.backends?.find((b) => b.benchmarked);
        runs.push({
          id,
          folder: where,
          // Runs timed in a matmulDevice chain's layouts say so: the same suite's default run sits beside them.
          suite: json?.settings?.operands === 'device-matrix' ? `${json.suite ?? id} (device-matrix operands)` : (json?.suite ?? id),
          device: best ? `${best.name} (${best.device ?? 'unknown device'})` : 'unknown',
          date: String(json?.environment?.date ?? json?.startedAt ?? ''),
          cases: json?.cases?.length ?? 0,
          html,
        });
      } catch (error) {
        problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return { runs, problems };
}

/** The fields of nmkit-bench's JSON (schema nmkit-bench/1) the index needs. */
interface RunJson {
  readonly suite?: string;
  readonly settings?: { readonly operands?: string };
  readonly startedAt?: string;
  readonly environment?: { readonly date?: string };
  readonly backends?: readonly { readonly name: string; readonly device?: string; readonly benchmarked?: boolean }[];
  readonly cases?: readonly unknown[];
}

function stripXmlProlog(svg: string): string {
  return svg.replace(/<\?xml[^>]*\?>\s*/, '').replace(/<!DOCTYPE[^>]*>\s*/i, '');
}
