import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';

/**
 * Where long commands report progress. The denominator is the rows counted in each table when
 * work on it starts; rows the app inserts meanwhile are scanned too and shown beyond it
 * ("+n since the count"), so the percentage never passes 100%.
 */
export interface Progress {
  /** A table starts: `rows` counted in it now join the denominator; `done` were scanned by an earlier run. */
  expect(rows: number, done: number): void;
  add(rows: number): void;
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  readonly label: string;
  /** No progress output at all (`--json`, tests). */
  readonly quiet: boolean;
  /** Defaults to `process.stderr`: stdout stays clean for results. */
  readonly stream?: NodeJS.WriteStream;
  /** Milliseconds between plain progress lines when not on a terminal. Defaults to 2,000. */
  readonly intervalMs?: number;
}

const SILENT: Progress = { expect() {}, add() {}, stop() {} };

/** `value` of `total` as text: never above 100%, the excess named as rows inserted since the count. */
export function describeProgress(value: number, total: number): { shown: string; percent: string } {
  const within = Math.min(value, total);
  const percent = total > 0 ? ((within / total) * 100).toFixed(1) : '100.0';
  const extra = value > total ? ` +${value - total} inserted since the count` : '';
  return { shown: `${within}/${total} rows${extra}`, percent };
}

/**
 * A progress bar with rows/s and ETA on a terminal (redrawn at most 5 times a second, so it
 * costs nothing measurable), plain lines every couple of seconds otherwise (logs, CI).
 */
export function createProgress(options: ProgressOptions): Progress {
  if (options.quiet) return SILENT;
  const stream = options.stream ?? process.stderr;
  const began = Date.now();
  let value = 0;
  let total = 0;
  let startValue = 0;
  let told = false;
  const rate = () => {
    const seconds = (Date.now() - began) / 1000;
    return seconds > 0 ? Math.round((value - startValue) / seconds) : 0;
  };
  const tell = () => {
    if (told) return;
    told = true;
    stream.write(
      `${options.label}: progress counts rows against the rows counted when each table starts; rows inserted meanwhile are scanned too and shown as "+n inserted since the count"\n`,
    );
  };
  if (stream.isTTY) {
    // Loaded only when a terminal shows it (keeps start-up lean).
    const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
    let bar: SingleBar | undefined;
    const draw = () => {
      const { shown, percent } = describeProgress(value, total);
      bar?.update(Math.min(value, total), { speed: rate(), shown, pct: percent });
    };
    return {
      expect(rows, done) {
        tell();
        total += rows;
        value += done;
        if (!bar) {
          startValue = value;
          bar = new cliProgress.SingleBar(
            {
              format: `${options.label} [{bar}] {pct}% | {shown} | {speed} rows/s | ETA {eta_formatted}`,
              fps: 5,
              etaBuffer: 50,
              stream,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(Math.max(total, 1), Math.min(value, total), { speed: 0, shown: '', pct: '0.0' });
        } else bar.setTotal(Math.max(total, 1));
        draw();
      },
      add(rows) {
        value += rows;
        draw();
      },
      stop() {
        bar?.stop();
        bar = undefined;
      },
    };
  }
  let last = 0;
  const line = () => {
    const r = rate();
    const eta = r > 0 && total > value ? `, ETA ${Math.ceil((total - value) / r)}s` : '';
    const { shown, percent } = describeProgress(value, total);
    stream.write(`${options.label}: ${shown} (${percent}%), ${r} rows/s${eta}\n`);
  };
  let started = false;
  return {
    expect(rows, done) {
      tell();
      total += rows;
      value += done;
      if (!started) {
        started = true;
        startValue = value;
        last = Date.now();
      }
    },
    add(rows) {
      value += rows;
      if (Date.now() - last >= (options.intervalMs ?? 2_000)) {
        last = Date.now();
        line();
      }
    },
    stop() {
      if (started) line();
      started = false;
    },
  };
}
