import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSingleRow } from '../src/single-row/run-single-row.js';
import { SINGLE_ROW_OPS } from '../src/single-row/single-row-case.js';
import { singleRowChartSvg } from '../src/single-row/single-row-chart.js';
import { formatSingleRowMarkdown, singleRowVerdicts } from '../src/single-row/single-row-report.js';
import type { SingleRowReport, SingleRowResult } from '../src/single-row/single-row-results.js';
import { statementCount } from '../src/single-row/statement-log.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fieldseal-single-row-test-'));
let report: SingleRowReport;

// Two iterations per case on both databases: every case, op, counter and file of
// `fieldseal bench single-row` runs, in seconds.
beforeAll(async () => {
  report = await runSingleRow({ iterations: 2, rounds: 1 });
}, 240_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const find = (dialect: string, orm: string, variant: string) =>
  report.results.find(
    (r) => r.dialect === dialect && r.orm === orm && r.variant === variant,
  ) as SingleRowResult;

describe('fieldseal bench single-row', () => {
  it('measures every op of the six cases on both databases (typeorm-encrypted has no lookup by value)', () => {
    expect(report.results).toHaveLength(12);
    for (const result of report.results) {
      const expected = SINGLE_ROW_OPS.filter(
        (op) => !(result.orm === 'typeorm' && result.variant === 'peer' && op === 'findByIndex'),
      );
      expect(Object.keys(result.ops).sort()).toEqual([...expected].sort());
      for (const op of expected) {
        const r = result.ops[op];
        expect(r?.samples).toBe(2);
        expect(r?.p99Us).toBeGreaterThanOrEqual(r?.p50Us ?? Number.POSITIVE_INFINITY);
        expect(r?.statements).toBeGreaterThan(0);
        expect(r?.sql).toHaveLength(r?.roundTrips ?? -1);
      }
    }
  });

  it('counts statements at the driver, transactions included', () => {
    // TypeORM's save() of a new entity runs in its own transaction on both databases.
    expect(find('postgres', 'typeorm', 'plain').ops.insert?.sql).toEqual([
      'START TRANSACTION',
      expect.stringMatching(/^INSERT INTO "sr_plain"/),
      'COMMIT',
    ]);
    expect(find('sqlite', 'typeorm', 'plain').ops.insert?.roundTrips).toBe(3);
    expect(find('postgres', 'prisma', 'plain').ops.findById?.roundTrips).toBe(1);
    // fieldseal writes a new row's data key and blind index in the INSERT itself.
    for (const orm of ['typeorm', 'prisma'])
      for (const dialect of ['postgres', 'sqlite']) {
        const insert = find(dialect, orm, 'fieldseal').ops.insert?.sql.find((s) => /^INSERT/.test(s));
        expect(insert).toMatch(/dataKey/);
        expect(insert).toMatch(/emailIndex/);
        // A lookup by email goes through the blind index, never the encrypted column.
        const lookup = find(dialect, orm, 'fieldseal').ops.findByIndex?.sql.join(' ');
        expect(lookup).toMatch(/emailIndex["`]? = /);
      }
  });

  it('reports ratios and verdicts against the plain ORM of the same run', () => {
    const verdicts = singleRowVerdicts(report);
    expect(verdicts.filter((v) => v.dialect === 'postgres')).toHaveLength(12);
    const markdown = formatSingleRowMarkdown(report);
    expect(markdown).toContain('#### TypeORM on PostgreSQL');
    expect(markdown).toContain('#### Prisma on SQLite (file, WAL)');
    expect(markdown).toMatch(/\| find by id \| [\d.]+ \/ [\d.]+ · 1\/1 · \d+ µs \|/);
    const svg = singleRowChartSvg(report);
    expect(svg).toContain('TypeORM 1.1');
    expect(svg).toContain('Prisma 7.10');
    expect(svg.match(/<rect [^>]*fill="#1f77b4"/g)?.length).toBe(2 * SINGLE_ROW_OPS.length + 1);
  });

  it('the command re-reads a report (--from) and writes JSON, Markdown and the chart', async () => {
    const file = join(dir, 'in.json');
    writeFileSync(file, JSON.stringify(report));
    const out = join(dir, 'out');
    const { stdout } = await run(process.execPath, [
      join(import.meta.dirname, '..', 'bin', 'fieldseal-bench.js'),
      'single-row',
      '--from',
      file,
      '--out',
      out,
    ]);
    expect(stdout).toContain('#### Prisma on PostgreSQL');
    expect(JSON.parse(readFileSync(join(out, 'single-row.json'), 'utf8')).results).toHaveLength(12);
    expect(readFileSync(join(out, 'bench-single-row.svg'), 'utf8')).toContain('<svg');
  });
});

describe('statementCount', () => {
  it('counts ;-separated statements outside quotes', () => {
    expect(statementCount('SELECT 1')).toBe(1);
    expect(statementCount('BEGIN; SELECT 1;\n')).toBe(2);
    expect(statementCount(`SELECT ';' AS "a;b"`)).toBe(1);
    expect(statementCount(' ; ')).toBe(0);
  });
});
