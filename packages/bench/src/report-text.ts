import { CHECK_MAX_CALLS_PER_1K, CHECK_MIN_RATIO } from './check.js';
import { fmt } from './recommend.js';
import type { BenchReport, BenchResult } from './results.js';
import type { TargetName } from './targets/target.js';
import type { WorkloadName } from './workload.js';

const WORKLOAD_TITLES: Readonly<Record<WorkloadName, string>> = {
  encrypt: 'encrypt-heavy (inserts)',
  decrypt: 'decrypt-heavy (reads of rows written under many data keys)',
  mixed: 'mixed (reads and inserts)',
};
const TARGET_TITLES: Readonly<Record<TargetName, string>> = {
  core: '@fieldseal/core RowEnvelope (rows in memory)',
  prisma: 'Prisma 7.10 + @fieldseal/prisma (SQLite file, WAL)',
  typeorm: 'TypeORM 1.1 + @fieldseal/typeorm (SQLite file, WAL)',
  'plain-prisma': 'peer: plain Prisma 7.10, no encryption',
  'plain-typeorm': 'peer: plain TypeORM 1.1, no encryption',
  esdk: 'peer: AWS Encryption SDK 5, caching CMM, one message per field',
};

const COLUMNS = [
  'setting',
  'rows/s',
  'p50 ms',
  'p99 ms',
  'KMS/1k rows',
  'KMS/s',
  'warm KMS/s',
  'throttles',
  'max rows/key',
  'errors',
] as const;

/** The report as plain-text tables: one per workload and target, then peers and the check. */
export function formatReport(report: BenchReport): string {
  const k = report.options.kms;
  const lines: string[] = [
    `fieldseal bench — ${report.environment.cpus} × ${report.environment.cpuModel}, Node ${report.environment.node}, ${report.generatedAt}`,
    `KMS: kms-local, ${k.latencyMs}–${k.latencyMs + k.jitterMs} ms per request, quota ${k.rateLimit || 'none'} req/s (ThrottlingException), SDK maxAttempts ${k.maxAttempts}; concurrency ${report.options.concurrency}; up to ${report.options.rows} rows or ${report.options.maxDurationMs} ms per run; reads over ${report.options.seedRows} seeded rows, ${report.options.seedRowsPerKey} per data key`,
  ];
  for (const workload of report.options.workloads) {
    for (const target of Object.keys(TARGET_TITLES) as TargetName[]) {
      const rows = report.results.filter((r) => r.workload === workload && r.target === target);
      if (rows.length === 0) continue;
      lines.push('', `${WORKLOAD_TITLES[workload]} — ${TARGET_TITLES[target]}`, ...table(rows));
    }
  }
  if (report.peers.length > 0) {
    lines.push('', 'Peers (throughput ratio, same workload; above 1 = fieldseal faster):');
    for (const p of report.peers)
      lines.push(
        `  ${p.workload.padEnd(8)} ${p.subject} [${p.setting}] vs ${p.peer}: ${fmt(p.subjectRowsPerSecond)} / ${fmt(p.peerRowsPerSecond)} rows/s = ${fmt(p.ratio)}×`,
      );
  }
  if (report.checks.length > 0) {
    lines.push(
      '',
      `Check (encrypt-heavy): cached setting ≥ ${CHECK_MIN_RATIO}× the throughput of no cache, with ≤ ${CHECK_MAX_CALLS_PER_1K} KMS call per 1,000 rows:`,
    );
    for (const c of report.checks)
      lines.push(
        `  ${c.passed ? 'PASS' : 'FAIL'} ${c.target.padEnd(8)} [${c.setting}] ${fmt(c.cachedRowsPerSecond)} vs ${fmt(c.uncachedRowsPerSecond)} rows/s = ${fmt(c.ratio)}×, ${fmt(c.kmsCallsPer1kRows)} KMS calls per 1,000 rows`,
      );
  }
  lines.push('', `Total time ${fmt(report.elapsedMs / 1000)} s.`);
  return lines.join('\n');
}

/** One result's cells, in the order of COLUMNS (errors with their first message, or just the count). */
function cellsOf(r: BenchResult, errorDetail: boolean): string[] {
  return [
    r.setting,
    fmt(r.rowsPerSecond),
    fmt(r.p50Ms),
    fmt(r.p99Ms),
    r.encrypted ? fmt(r.kmsCallsPer1kRows) : '—',
    r.encrypted ? fmt(r.kmsCallsPerSecond) : '—',
    r.encrypted ? fmt(r.warmKmsCallsPerSecond) : '—',
    String(r.throttles),
    r.maxRowsPerKey === null ? '—' : r.maxRowsPerKey.toLocaleString('en-US'),
    errorDetail && r.errors > 0 ? `${r.errors} (${r.firstError ?? 'error'})` : String(r.errors),
  ];
}

function table(results: readonly BenchResult[]): string[] {
  const cells = results.map((r) => cellsOf(r, true));
  const widths = COLUMNS.map((title, i) =>
    Math.max(title.length, ...cells.map((row) => row[i]?.length ?? 0)),
  );
  const line = (row: readonly string[]) =>
    `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')}`;
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}

/** The same tables as Markdown, for docs. */
export function formatMarkdown(report: BenchReport, workload: WorkloadName): string {
  const out: string[] = [];
  for (const target of Object.keys(TARGET_TITLES) as TargetName[]) {
    const rows = report.results.filter((r) => r.workload === workload && r.target === target);
    if (rows.length === 0) continue;
    out.push(
      `**${TARGET_TITLES[target]}**`,
      '',
      `| ${COLUMNS.join(' | ')} |`,
      `|${COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    );
    for (const r of rows) out.push(`| ${cellsOf(r, false).join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}
