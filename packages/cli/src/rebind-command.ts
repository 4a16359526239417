import { Command } from 'commander';
import { CliError, EXIT } from './errors.js';
import type { GuardCommandHost } from './guard-command.js';
import { createProgress } from './progress.js';
import type { RebindReport } from './rebind.js';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError('usage', '--batch must be a whole number of at least 1');
  return n;
}

/** The text summary of a rebind run. */
export function rebindSummary(r: RebindReport): string {
  const moved = r.dryRun ? `${r.rebound} rows would move` : `${r.rebound} rows moved`;
  const lines = [
    `rebind${r.dryRun ? ' (dry run)' : ''} ${r.model}: "${r.from}" -> "${r.to}": ${r.scanned} rows in ${r.seconds.toFixed(1)} s`,
    `  ${moved}, ${r.already} already under "${r.to}", ${r.unbound} without a data key`,
  ];
  if (r.conflicts.length)
    lines.push(
      `  ${r.conflicts.length} rows kept changing (ids ${r.conflicts.slice(0, 20).join(', ')}); run again`,
    );
  if (r.undecryptable)
    lines.push(
      `  ${r.undecryptable} rows open under neither name or are damaged:`,
      ...r.problems
        .slice(0, 20)
        .map((p) => `    row ${p.rowId}${p.column ? ` (${p.column})` : ''}: ${p.code}`),
    );
  if (r.stopped) lines.push('  stopped; run the same command again to resume');
  return lines.join('\n');
}

/** `fieldseal rebind --model M --from A [--to B]`: moves rows to another encryption name. */
export function rebindCommand(host: GuardCommandHost, json: () => boolean): Command {
  // A command added with addCommand inherits none of the program's settings: set them here.
  return new Command('rebind')
    .exitOverride()
    .configureOutput({ writeOut: host.out, writeErr: host.err })
    .showHelpAfterError()
    .description("move a model's rows from one encryption name to another (after a table rename; resumable)")
    .requiredOption('-m, --model <name>', 'the model (or table) whose rows move')
    .requiredOption('--from <name>', 'the encryption name the rows are bound to now (the old table name)')
    .option('--to <name>', "the encryption name to bind to (default: the model's configured one)")
    .option('-b, --batch <n>', 'rows per batch, one transaction each', positive, 500)
    .option('--dry-run', 'count what would move; write nothing')
    .action(async (o) => {
      const { rebind } = await import('./rebind.js');
      const progress = createProgress({ label: 'rebind', quiet: json() });
      let stopping = false;
      const onSignal = () => {
        stopping = true;
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const report = await host.withConfig((config) =>
          rebind(config, {
            model: o.model,
            from: o.from,
            ...(o.to === undefined ? {} : { to: o.to }),
            batch: o.batch,
            dryRun: o.dryRun === true,
            onStart: (rows) => progress.expect(rows, 0),
            onBatch: (rows) => progress.add(rows),
            shouldStop: () => stopping,
          }),
        );
        progress.stop();
        host.print(report, rebindSummary(report));
        host.setExit(report.ok ? EXIT.ok : EXIT.incomplete);
      } finally {
        progress.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
