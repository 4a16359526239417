import { type Dialect, OP_TITLES, type Orm, SINGLE_ROW_OPS, type SingleRowOp } from './single-row-case.js';
import { ratioToPlain, type SingleRowReport, type SingleRowResult } from './single-row-results.js';

/** The targets of issue 17, per op p50 on PostgreSQL: the most fieldseal may cost over the plain ORM. */
export const SINGLE_ROW_TARGETS: Readonly<Partial<Record<SingleRowOp, number>>> = {
  insert: 1.15,
  findById: 1.15,
  findByIndex: 1.15,
  updateEncrypted: 1.3,
};

const DIALECTS: Readonly<Record<Dialect, string>> = {
  postgres: 'PostgreSQL',
  sqlite: 'SQLite (file, WAL)',
};
const ORMS: Readonly<Record<Orm, string>> = { typeorm: 'TypeORM', prisma: 'Prisma' };

/** Whether fieldseal's op meets its target: within the ratio to plain (where one is set) and not slower than the peer. */
export interface TargetVerdict {
  readonly dialect: Dialect;
  readonly orm: Orm;
  readonly op: SingleRowOp;
  readonly ratio: number | undefined;
  readonly limit: number | undefined;
  /** fieldseal p50 over the peer's p50 (undefined where the peer cannot do the op). */
  readonly vsPeer: number | undefined;
  readonly met: boolean;
}

/** The verdict of every fieldseal op of the report (targets are set for PostgreSQL; SQLite is informative). */
export function singleRowVerdicts(report: SingleRowReport): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  for (const result of report.results.filter((r) => r.variant === 'fieldseal')) {
    const peer = report.results.find(
      (r) => r.dialect === result.dialect && r.orm === result.orm && r.variant === 'peer',
    );
    for (const op of SINGLE_ROW_OPS) {
      const mine = result.ops[op];
      if (!mine) continue;
      const ratio = ratioToPlain(report, result, op);
      const limit = SINGLE_ROW_TARGETS[op];
      const peerP50 = peer?.ops[op]?.p50Us;
      const vsPeer = peerP50 ? mine.p50Us / peerP50 : undefined;
      const met =
        (limit === undefined || (ratio !== undefined && ratio <= limit)) &&
        (vsPeer === undefined || vsPeer <= 1);
      verdicts.push({ dialect: result.dialect, orm: result.orm, op, ratio, limit, vsPeer, met });
    }
  }
  return verdicts;
}

const ms = (us: number | undefined) => (us === undefined ? '—' : (us / 1000).toFixed(2));
const x = (ratio: number | undefined) => (ratio === undefined ? '—' : `${ratio.toFixed(2)}×`);

/**
 * Markdown tables, one per dialect and ORM: p50 / p99 (ms) per op for the plain ORM, fieldseal
 * and the peer, each with its ratio to plain and its statements / round trips, then fieldseal's
 * verdict against the targets.
 */
export function formatSingleRowMarkdown(report: SingleRowReport): string {
  const e = report.environment;
  const o = report.options;
  const out: string[] = [
    `Single-row operations — ${o.iterations} iterations × ${o.rounds} rounds per case (after a warm-up round, cases interleaved), ${o.keyring}, three encrypted text columns; Node ${e.node}, ${e.cpus} CPUs, load ${e.loadAverage.map((l) => l.toFixed(1)).join(' ')}; ${report.date}.`,
    'Cells: p50 / p99 in ms, ratio of p50 to the plain ORM, statements/round trips per op (counted at the driver, BEGIN/COMMIT included), median CPU µs of this process per op (client side only; stable under load).',
  ];
  const verdicts = singleRowVerdicts(report);
  for (const dialect of o.dialects) {
    for (const orm of o.orms) {
      const of = (variant: SingleRowResult['variant']) =>
        report.results.find((r) => r.dialect === dialect && r.orm === orm && r.variant === variant);
      const cases = [of('plain'), of('fieldseal'), of('peer')].filter((r): r is SingleRowResult => !!r);
      if (cases.length === 0) continue;
      out.push(
        '',
        `#### ${ORMS[orm]} on ${DIALECTS[dialect]}`,
        '',
        `| op | ${cases.map((c) => c.label).join(' | ')} | fieldseal target |`,
        `|---|${cases.map(() => '---:|').join('')}---|`,
      );
      for (const op of SINGLE_ROW_OPS) {
        const cells = cases.map((c) => {
          const r = c.ops[op];
          if (!r) return 'n/a';
          const ratio = c.variant === 'plain' ? '' : ` **${x(ratioToPlain(report, c, op))}**`;
          return `${ms(r.p50Us)} / ${ms(r.p99Us)}${ratio} · ${r.statements}/${r.roundTrips} · ${r.cpuUs ?? '—'} µs`;
        });
        const v = verdicts.find((t) => t.dialect === dialect && t.orm === orm && t.op === op);
        const goal = !v
          ? ''
          : `${v.met ? 'met' : '**missed**'} (${v.limit ? `≤ ${v.limit}×` : 'no ratio target'}${v.vsPeer === undefined ? '' : `; ${x(v.vsPeer)} peer`})`;
        out.push(
          `| ${OP_TITLES[op]} | ${cells.join(' | ')} | ${dialect === 'postgres' ? goal : `(${goal})`} |`,
        );
      }
    }
  }
  out.push(
    '',
    'Targets (issue 17) apply on PostgreSQL: p50 ≤ 1.15× plain for insert and reads, ≤ 1.3× for an update of an encrypted field, and never slower than the peer on any op; SQLite verdicts are in parentheses, for information.',
  );
  return `${out.join('\n')}\n`;
}

/** The statements each fieldseal op issued, for docs/performance.md. */
export function formatSingleRowStatements(report: SingleRowReport): string {
  const out: string[] = [];
  for (const result of report.results.filter((r) => r.variant !== 'peer')) {
    out.push(`${DIALECTS[result.dialect]} — ${result.label}`);
    for (const op of SINGLE_ROW_OPS) {
      const r = result.ops[op];
      if (r) out.push(`  ${OP_TITLES[op]}: ${r.sql.join(' ; ')}`);
    }
  }
  return `${out.join('\n')}\n`;
}
