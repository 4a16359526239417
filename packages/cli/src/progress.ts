import cliProgress from 'cli-progress';

/** Where long commands report progress. */
export interface Progress {
  /** Rows handled so far are `value`; the expected total may grow. */
  start(total: number, value: number): void;
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

const SILENT: Progress = { start() {}, add() {}, stop() {} };

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
  const rate = () => {
    const seconds = (Date.now() - began) / 1000;
    return seconds > 0 ? Math.round((value - startValue) / seconds) : 0;
  };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${options.label} [{bar}] {percentage}% | {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}`,
        fps: 5,
        etaBuffer: 50,
        stream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    return {
      start(t, v) {
        total = t;
        value = startValue = v;
        bar.start(Math.max(t, v), v, { speed: 0 });
      },
      add(rows) {
        value += rows;
        if (value > total) {
          total = value;
          bar.setTotal(total);
        }
        bar.update(value, { speed: rate() });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let last = 0;
  const line = () => {
    const r = rate();
    const eta = r > 0 && total > value ? `, ETA ${Math.ceil((total - value) / r)}s` : '';
    const percent = total > 0 ? ` (${((Math.min(value, total) / total) * 100).toFixed(1)}%)` : '';
    stream.write(`${options.label}: ${value}/${total} rows${percent}, ${r} rows/s${eta}\n`);
  };
  return {
    start(t, v) {
      total = t;
      value = startValue = v;
      last = Date.now();
    },
    add(rows) {
      value += rows;
      if (Date.now() - last >= (options.intervalMs ?? 2_000)) {
        last = Date.now();
        line();
      }
    },
    stop() {
      line();
    },
  };
}
