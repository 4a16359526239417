import type { BenchReport, BenchResult } from './results.js';
import { count } from './settings.js';
import type { TargetName } from './targets/target.js';
import type { WorkloadName } from './workload.js';

const COLORS: Readonly<Record<TargetName, string>> = {
  core: '#1f77b4',
  prisma: '#2ca02c',
  typeorm: '#d62728',
  'plain-prisma': '#2ca02c',
  'plain-typeorm': '#d62728',
  esdk: '#9467bd',
};
const NAMES: Readonly<Record<TargetName, string>> = {
  core: 'fieldseal core envelope',
  prisma: 'Prisma + fieldseal',
  typeorm: 'TypeORM + fieldseal',
  'plain-prisma': 'plain Prisma (no encryption)',
  'plain-typeorm': 'plain TypeORM (no encryption)',
  esdk: 'AWS Encryption SDK (peer)',
};
const TITLES: Readonly<Record<WorkloadName, string>> = {
  encrypt: 'Encrypt-heavy (inserts)',
  decrypt: 'Decrypt-heavy (reads of rows under many data keys)',
  mixed: 'Mixed (reads and inserts)',
};

const WIDTH = 1000;
const LEFT = 80;
const RIGHT = 20;
const PANEL = 220;
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/**
 * An SVG chart of one workload: rows/s (top) and KMS calls per 1,000 rows (bottom) for each cache
 * setting, grouped bars per fieldseal target, both on log scales; the plain-ORM peers (no cache
 * setting applies to them) are drawn as dashed lines. Hand-written SVG: no dependency.
 */
export function chartSvg(report: BenchReport, workload: WorkloadName): string {
  const settings = report.options.settings;
  const ran = new Set(report.results.map((r) => r.target));
  // Bars: the fieldseal targets, and the ESDK where it ran (it has cache settings too).
  const fieldseal = (['core', 'prisma', 'typeorm', 'esdk'] as const).filter((t) => ran.has(t));
  const of = (target: TargetName, setting: string) =>
    report.results.find((r) => r.target === target && r.workload === workload && r.setting === setting);
  const peers = (['plain-prisma', 'plain-typeorm'] as const)
    .map((target) => report.results.find((r) => r.target === target && r.workload === workload))
    .filter((r): r is BenchResult => r !== undefined);

  const top = 130;
  const gap = 60;
  const bottomTop = top + PANEL + gap;
  const height = bottomTop + PANEL + 150;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const band = plotWidth / settings.length;
  const barWidth = Math.min(26, (band * 0.8) / fieldseal.length);
  const k = report.options.kms;
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold">${esc(TITLES[workload])}: throughput and KMS calls by cache setting</text>`,
    `<text x="${WIDTH / 2}" y="46" text-anchor="middle" fill="#444">${esc(
      `KMS ${k.latencyMs}–${k.latencyMs + k.jitterMs} ms per call, quota ${k.rateLimit ? `${k.rateLimit} req/s` : 'none'}, concurrency ${report.options.concurrency}, ${report.environment.cpus} CPUs, Node ${report.environment.node}`,
    )}</text>`,
  ];
  // Legend.
  const legend = [
    ...fieldseal.map((t) => ({ label: NAMES[t], color: COLORS[t], dashed: false })),
    ...peers.map((p) => ({ label: NAMES[p.target], color: COLORS[p.target], dashed: true })),
  ];
  // Three entries per row, so long names never run off the right edge.
  for (const [i, item] of legend.entries()) {
    const lx = LEFT + (i % 3) * 300;
    const ly = 65 + Math.floor(i / 3) * 20;
    out.push(
      item.dashed
        ? `<line x1="${lx}" y1="${ly + 7}" x2="${lx + 22}" y2="${ly + 7}" stroke="${item.color}" stroke-width="2" stroke-dasharray="5,3"/>`
        : `<rect x="${lx}" y="${ly}" width="22" height="14" fill="${item.color}"/>`,
      `<text x="${lx + 28}" y="${ly + 11}">${esc(item.label)}</text>`,
    );
  }

  const panel = (
    y0: number,
    title: string,
    value: (r: BenchResult) => number,
    format: (v: number) => string,
    peerLines: boolean,
  ) => {
    const values: number[] = [];
    for (const t of fieldseal)
      for (const s of settings) values.push(value(of(t, s) ?? ({} as BenchResult)) || 0);
    if (peerLines) for (const p of peers) values.push(value(p));
    const positive = values.filter((v) => v > 0);
    const lo = 10 ** Math.floor(Math.log10(Math.min(...positive, 1)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive, lo * 10)));
    const y = (v: number) =>
      y0 + PANEL - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / Math.log10(hi / lo)) * PANEL;
    out.push(
      `<text x="${LEFT - 60}" y="${y0 + PANEL / 2}" transform="rotate(-90 ${LEFT - 60} ${y0 + PANEL / 2})" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    );
    for (let tick = lo; tick <= hi * 1.0001; tick *= 10) {
      const ty = y(tick);
      out.push(
        `<line x1="${LEFT}" y1="${ty}" x2="${WIDTH - RIGHT}" y2="${ty}" stroke="#ddd"/>`,
        `<text x="${LEFT - 6}" y="${ty + 4}" text-anchor="end">${format(tick)}</text>`,
      );
    }
    for (const [i, s] of settings.entries()) {
      const x0 = LEFT + band * i + (band - barWidth * fieldseal.length) / 2;
      for (const [j, t] of fieldseal.entries()) {
        const r = of(t, s);
        if (!r) continue;
        const v = value(r);
        const x = x0 + j * barWidth;
        if (v > 0) {
          const by = y(v);
          out.push(
            `<rect x="${x.toFixed(1)}" y="${by.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(y0 + PANEL - by).toFixed(1)}" fill="${COLORS[t]}"><title>${esc(`${NAMES[t]}, ${s}: ${format(v)}`)}</title></rect>`,
          );
        } else {
          out.push(
            `<text x="${(x + barWidth / 2).toFixed(1)}" y="${y0 + PANEL - 4}" text-anchor="middle" font-size="10">0</text>`,
          );
        }
      }
    }
    if (peerLines) {
      for (const p of peers) {
        const py = y(value(p)).toFixed(1);
        out.push(
          `<line x1="${LEFT}" y1="${py}" x2="${WIDTH - RIGHT}" y2="${py}" stroke="${COLORS[p.target]}" stroke-width="2" stroke-dasharray="6,4"/>`,
        );
      }
    }
    out.push(
      `<line x1="${LEFT}" y1="${y0}" x2="${LEFT}" y2="${y0 + PANEL}" stroke="#333"/>`,
      `<line x1="${LEFT}" y1="${y0 + PANEL}" x2="${WIDTH - RIGHT}" y2="${y0 + PANEL}" stroke="#333"/>`,
    );
  };
  panel(top, 'rows per second (log)', (r) => r.rowsPerSecond ?? 0, count0, true);
  panel(bottomTop, 'KMS calls per 1,000 rows (log)', (r) => r.kmsCallsPer1kRows ?? 0, decimal, false);
  // Setting labels under the bottom panel, rotated so long ones fit.
  for (const [i, s] of settings.entries()) {
    const x = LEFT + band * i + band / 2;
    const y = bottomTop + PANEL + 14;
    out.push(
      `<text x="${x.toFixed(1)}" y="${y}" text-anchor="end" transform="rotate(-35 ${x.toFixed(1)} ${y})">${esc(s)}</text>`,
    );
  }
  out.push(
    `<text x="${LEFT + plotWidth / 2}" y="${height - 12}" text-anchor="middle" font-size="13">cache setting (maxUses · maxAge · capacity; off = no cache)</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}

function count0(v: number): string {
  return v < 1 ? String(v) : count(Math.round(v));
}

function decimal(v: number): string {
  return v >= 1 ? count(Math.round(v)) : String(Number(v.toPrecision(2)));
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Renders an SVG to PNG with `@resvg/resvg-js` when it is installed (an optional dependency with
 * prebuilt binaries); `undefined` when it is not, so the SVG alone is written.
 */
export async function svgToPng(svg: string): Promise<Uint8Array | undefined> {
  try {
    const { Resvg } = await import('@resvg/resvg-js');
    return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
      .render()
      .asPng();
  } catch {
    return undefined;
  }
}
