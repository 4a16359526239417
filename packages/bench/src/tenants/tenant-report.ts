import type { TenantBenchReport } from './run-tenant-bench.js';
import { TENANT_SETTING_NAMES } from './tenant-settings.js';

const per1000 = (n: number) => n.toFixed(n < 0.01 ? 3 : n < 10 ? 2 : 1);

/** The Markdown table of `bench tenants`. */
export function formatTenantMarkdown(report: TenantBenchReport): string {
  return [
    `### KMS calls with ${report.tenants} tenants: ${report.processes} processes × ${report.rowsPerProcess} rows = ${report.rows} rows (counted by kms-local)`,
    '',
    '| setting | KMS calls, writing | per 1,000 rows | per instance | KMS calls, reading all rows (1 process) |',
    '|---|---:|---:|---:|---:|',
    ...report.results.map(
      (r) =>
        `| ${TENANT_SETTING_NAMES[r.setting]} | ${r.writeCalls} | ${per1000(r.writeCallsPer1000Rows)} | ${r.writeCallsPerInstance.toFixed(1)} | ${r.readCalls} |`,
    ),
  ].join('\n');
}

/** A log-scale bar chart (SVG) of KMS calls writing and reading, per setting. */
export function tenantChartSvg(report: TenantBenchReport): string {
  const width = 760;
  const barH = 18;
  const left = 230;
  const max = Math.max(...report.results.flatMap((r) => [r.writeCalls, r.readCalls]), 10);
  const x = (n: number) => (Math.log10(Math.max(n, 1)) / Math.log10(max)) * (width - left - 90);
  const bars = report.results
    .map((r, i) => {
      const y = 40 + i * (barH * 2 + 14);
      return [
        `<text x="${left - 8}" y="${y + barH}" text-anchor="end" font-size="13">${TENANT_SETTING_NAMES[r.setting]}</text>`,
        `<rect x="${left}" y="${y}" width="${x(r.writeCalls)}" height="${barH - 2}" fill="#1f77b4"/>`,
        `<text x="${left + x(r.writeCalls) + 4}" y="${y + 13}" font-size="12">${r.writeCalls} writing</text>`,
        `<rect x="${left}" y="${y + barH}" width="${x(r.readCalls)}" height="${barH - 2}" fill="#ff7f0e"/>`,
        `<text x="${left + x(r.readCalls) + 4}" y="${y + barH + 13}" font-size="12">${r.readCalls} reading</text>`,
      ].join('');
    })
    .join('');
  const height = 60 + report.results.length * (barH * 2 + 14);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15">KMS calls (log scale): ${report.processes} processes write ${report.rows} rows for ${report.tenants} tenants, then 1 process reads them</text>${bars}</svg>\n`;
}
