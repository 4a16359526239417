import { OP_SHORT, OP_TITLES, type Orm, SINGLE_ROW_OPS } from './single-row-case.js';
import { SINGLE_ROW_TARGETS } from './single-row-report.js';
import { ratioToPlain, type SingleRowReport, type SingleRowResult } from './single-row-results.js';

const COLORS = { plain: '#7f7f7f', fieldseal: '#1f77b4', peer: '#ff7f0e' } as const;
const WIDTH = 1000;
const LEFT = 70;
const RIGHT = 20;
const PANEL = 230;
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/**
 * An SVG chart of the single-row figures on PostgreSQL: one panel per ORM, per op three bars
 * (plain ORM, fieldseal, static-key peer) of p50 latency in ms, each encrypted bar labelled with
 * its ratio to plain and the round trips the op made; a red label marks a missed target.
 * Hand-written SVG, like the grid's charts.
 */
export function singleRowChartSvg(report: SingleRowReport): string {
  const orms = report.options.orms.filter((orm) =>
    report.results.some((r) => r.dialect === 'postgres' && r.orm === orm),
  );
  const top = 125;
  const gap = 95;
  const height = top + orms.length * (PANEL + gap) + 10;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const band = plotWidth / SINGLE_ROW_OPS.length;
  const barWidth = Math.min(40, (band * 0.8) / 3);
  const e = report.environment;
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold">Single-row operations on PostgreSQL: p50 latency (ms), ratio to the plain ORM, round trips</text>`,
    `<text x="${WIDTH / 2}" y="46" text-anchor="middle" fill="#444">${esc(
      `${report.options.iterations} × ${report.options.rounds} ops per case, 3 encrypted text columns, ${report.options.keyring}; ${e.cpus} CPUs, Node ${e.node}, ${report.date.slice(0, 10)}`,
    )}</text>`,
  ];
  const legend = [
    ['plain ORM (no encryption)', COLORS.plain],
    ['fieldseal', COLORS.fieldseal],
    ['static-key peer (typeorm-encrypted / prisma-field-encryption)', COLORS.peer],
  ] as const;
  let lx = LEFT;
  for (const [label, color] of legend) {
    out.push(
      `<rect x="${lx}" y="62" width="16" height="12" fill="${color}"/>`,
      `<text x="${lx + 22}" y="72">${esc(label)}</text>`,
    );
    lx += 40 + label.length * 6.5;
  }
  for (const [p, orm] of orms.entries()) panel(out, report, orm, top + p * (PANEL + gap), band, barWidth);
  out.push('</svg>', '');
  return out.join('\n');
}

function panel(
  out: string[],
  report: SingleRowReport,
  orm: Orm,
  y0: number,
  band: number,
  barWidth: number,
): void {
  const of = (variant: SingleRowResult['variant']) =>
    report.results.find((r) => r.dialect === 'postgres' && r.orm === orm && r.variant === variant);
  const cases = (['plain', 'fieldseal', 'peer'] as const)
    .map((variant) => of(variant))
    .filter((r): r is SingleRowResult => r !== undefined);
  const max = Math.max(0.001, ...cases.flatMap((c) => Object.values(c.ops).map((o) => o.p50Us / 1000)));
  const step = niceStep(max / 4);
  const hi = Math.ceil(max / step) * step;
  const y = (v: number) => y0 + PANEL - (v / hi) * PANEL;
  out.push(
    `<text x="${LEFT}" y="${y0 - 24}" font-size="14" font-weight="bold">${orm === 'typeorm' ? 'TypeORM 1.1' : 'Prisma 7.10'}</text>`,
    `<text x="${LEFT - 48}" y="${y0 + PANEL / 2}" transform="rotate(-90 ${LEFT - 48} ${y0 + PANEL / 2})" text-anchor="middle">p50 (ms)</text>`,
  );
  for (let tick = 0; tick <= hi + step / 2; tick += step) {
    out.push(
      `<line x1="${LEFT}" y1="${y(tick).toFixed(1)}" x2="${WIDTH - RIGHT}" y2="${y(tick).toFixed(1)}" stroke="#e3e3e3"/>`,
      `<text x="${LEFT - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${Number(tick.toPrecision(3))}</text>`,
    );
  }
  for (const [i, op] of SINGLE_ROW_OPS.entries()) {
    const x0 = LEFT + band * i + (band - barWidth * 3) / 2;
    for (const [j, c] of cases.entries()) {
      const r = c.ops[op];
      const x = x0 + j * barWidth;
      if (!r) {
        out.push(
          `<text x="${(x + barWidth / 2).toFixed(1)}" y="${y0 + PANEL - 4}" text-anchor="middle" font-size="10">n/a</text>`,
        );
        continue;
      }
      const v = r.p50Us / 1000;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barWidth - 3).toFixed(1)}" height="${(y0 + PANEL - y(v)).toFixed(1)}" fill="${COLORS[c.variant]}"><title>${esc(`${c.label}, ${OP_TITLES[op]}: p50 ${v.toFixed(2)} ms, p99 ${(r.p99Us / 1000).toFixed(2)} ms, ${r.roundTrips} round trips`)}</title></rect>`,
      );
      const ratio = c.variant === 'plain' ? undefined : ratioToPlain(report, c, op);
      const limit = SINGLE_ROW_TARGETS[op];
      const missed = c.variant === 'fieldseal' && ratio !== undefined && limit !== undefined && ratio > limit;
      const label = ratio === undefined ? `${r.roundTrips} rt` : `${ratio.toFixed(2)}×`;
      out.push(
        `<text x="${(x + barWidth / 2 - 1.5).toFixed(1)}" y="${(y(v) - 14).toFixed(1)}" text-anchor="middle" font-size="10" fill="${missed ? '#c00000' : '#222'}"${missed ? ' font-weight="bold"' : ''}>${label}</text>`,
        ratio === undefined
          ? ''
          : `<text x="${(x + barWidth / 2 - 1.5).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#555">${r.roundTrips} rt</text>`,
      );
    }
    out.push(
      `<text x="${(LEFT + band * i + band / 2).toFixed(1)}" y="${y0 + PANEL + 18}" text-anchor="middle">${esc(OP_SHORT[op])}</text>`,
    );
  }
  out.push(
    `<line x1="${LEFT}" y1="${y0}" x2="${LEFT}" y2="${y0 + PANEL}" stroke="#333"/>`,
    `<line x1="${LEFT}" y1="${y0 + PANEL}" x2="${WIDTH - RIGHT}" y2="${y0 + PANEL}" stroke="#333"/>`,
  );
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * power) return m * power;
  return 10 * power;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
