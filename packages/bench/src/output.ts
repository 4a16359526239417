import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chartSvg, svgToPng } from './chart.js';
import { formatMarkdown } from './report-text.js';
import type { BenchReport } from './results.js';

/** Files {@link writeOutputs} wrote. */
export interface WrittenFiles {
  readonly json: string;
  readonly markdown: string;
  readonly svg: readonly string[];
  /** Empty when no PNG renderer is installed. */
  readonly png: readonly string[];
}

/**
 * Writes `bench.json` (the whole report), `bench.md` (Markdown tables) and, per workload,
 * `bench-<workload>.svg` (and `.png` when `@resvg/resvg-js` is available) into `dir`.
 */
export async function writeOutputs(report: BenchReport, dir: string): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'bench.json');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = join(dir, 'bench.md');
  await writeFile(
    markdown,
    report.options.workloads.map((w) => `### ${w}\n\n${formatMarkdown(report, w)}`).join('\n'),
  );
  const svg: string[] = [];
  const png: string[] = [];
  for (const workload of report.options.workloads) {
    const text = chartSvg(report, workload);
    const file = join(dir, `bench-${workload}.svg`);
    await writeFile(file, text);
    svg.push(file);
    const image = await svgToPng(text);
    if (image) {
      const pngFile = join(dir, `bench-${workload}.png`);
      await writeFile(pngFile, image);
      png.push(pngFile);
    }
  }
  return { json, markdown, svg, png };
}
