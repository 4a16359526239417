import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chartSvg, svgToPng } from './chart.js';
import { formatMarkdown } from './report-text.js';
import type { BenchReport } from './results.js';
import { singleRowChartSvg } from './single-row/single-row-chart.js';
import { formatSingleRowMarkdown } from './single-row/single-row-report.js';
import type { SingleRowReport } from './single-row/single-row-results.js';
import type { TenantBenchReport } from './tenants/run-tenant-bench.js';
import { formatTenantMarkdown, tenantChartSvg } from './tenants/tenant-report.js';

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
  const sections = report.options.workloads.map((w) => `### ${w}\n\n${formatMarkdown(report, w)}`);
  if (report.singleRow) sections.push(`### single-row\n\n${formatSingleRowMarkdown(report.singleRow)}`);
  if (report.tenants) sections.push(formatTenantMarkdown(report.tenants));
  await writeFile(markdown, sections.join('\n'));
  const charts = report.options.workloads.map((w) => ({ name: w as string, svg: chartSvg(report, w) }));
  if (report.singleRow) charts.push({ name: 'single-row', svg: singleRowChartSvg(report.singleRow) });
  if (report.tenants) charts.push({ name: 'tenants', svg: tenantChartSvg(report.tenants) });
  return { json, markdown, ...(await writeCharts(dir, charts)) };
}

/**
 * Writes the single-row report alone (`fieldseal bench single-row --out`): `single-row.json`,
 * `single-row.md` and `bench-single-row.svg` (and `.png` when a renderer is installed).
 */
export async function writeSingleRowOutputs(report: SingleRowReport, dir: string): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'single-row.json');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = join(dir, 'single-row.md');
  await writeFile(markdown, formatSingleRowMarkdown(report));
  return {
    json,
    markdown,
    ...(await writeCharts(dir, [{ name: 'single-row', svg: singleRowChartSvg(report) }])),
  };
}

/**
 * Writes the tenant KMS-call report alone (`fieldseal bench tenants --out`): `tenants.json`,
 * `tenants.md` and `bench-tenants.svg` (and `.png` when a renderer is installed).
 */
export async function writeTenantOutputs(report: TenantBenchReport, dir: string): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'tenants.json');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = join(dir, 'tenants.md');
  await writeFile(markdown, `${formatTenantMarkdown(report)}\n`);
  return { json, markdown, ...(await writeCharts(dir, [{ name: 'tenants', svg: tenantChartSvg(report) }])) };
}

async function writeCharts(
  dir: string,
  charts: readonly { readonly name: string; readonly svg: string }[],
): Promise<Pick<WrittenFiles, 'svg' | 'png'>> {
  const svg: string[] = [];
  const png: string[] = [];
  for (const chart of charts) {
    const file = join(dir, `bench-${chart.name}.svg`);
    await writeFile(file, chart.svg);
    svg.push(file);
    const image = await svgToPng(chart.svg);
    if (image) {
      const pngFile = join(dir, `bench-${chart.name}.png`);
      await writeFile(pngFile, image);
      png.push(pngFile);
    }
  }
  return { svg, png };
}
