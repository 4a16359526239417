import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isFieldsealError } from '@fieldseal/core';
import { Command, CommanderError, Option } from 'commander';
import { addBranchKeyCommands } from './branch-key-commands.js';
import type { FieldsealConfig } from './config.js';
import { CliError, EXIT, exitCodeOf } from './errors.js';
import {
  type GuardCommandHost,
  guardCommand,
  guardsAfterMigrate,
  warnMissingGuards,
} from './guard-command.js';
import { type InitOrm, initTemplate } from './init-template.js';
import { migrate, rotate, status, verify } from './lazy-operations.js';
import { findConfig, loadConfig } from './load-config.js';
import type { JobReport } from './operations.js';
import { createProgress } from './progress.js';

interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

interface GlobalOptions {
  config?: string;
  json?: boolean;
}

function int(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new CliError('usage', `${name} must be a whole number of at least 1`);
    return n;
  };
}

/** Loads the config, runs `fn`, and always calls the config's `close`. */
async function withConfig<T>(
  globals: GlobalOptions,
  fn: (config: FieldsealConfig) => Promise<T>,
): Promise<T> {
  const config = await loadConfig(findConfig(globals.config));
  try {
    return await fn(config);
  } finally {
    await Promise.resolve(config.close?.()).catch(() => undefined);
  }
}

function jobSummary(report: JobReport): string {
  const lines = report.tables.map((t) => {
    const what = report.dryRun
      ? `${t.wouldWrite ?? 0} rows would be ${report.command === 'rotate' ? 're-wrapped' : report.command === 'decrypt' ? 'decrypted' : 'encrypted'}`
      : `${t.written} rows written`;
    const extra = [
      t.conflicts.length
        ? `${t.conflicts.length} conflicts (ids ${t.conflicts.slice(0, 20).join(', ')})`
        : '',
      t.problems.length
        ? `${t.problems.length} problem rows (${t.problems
            .slice(0, 20)
            .map((p) => `${p.rowId}: ${p.code}`)
            .join('; ')})`
        : '',
    ].filter(Boolean);
    return `  ${t.model}: ${t.scanned} rows scanned, ${what}${extra.length ? `, ${extra.join(', ')}` : ''}`;
  });
  if (report.blindIndexKey)
    lines.push(
      `  blind-index key re-wrapped under the new master key; put it in your config (and the app's) before retiring the old key:\n  ${report.blindIndexKey}`,
    );
  return [
    `${report.command}${report.dryRun ? ' (dry run)' : ''}: ${report.totals.scanned} rows in ${report.seconds.toFixed(1)} s (${report.rowsPerSecond} rows/s)`,
    ...lines,
  ].join('\n');
}

/** Builds the `fieldseal` program. `io` receives all output (tests capture it). */
export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('fieldseal')
    .description('fieldseal: migrate plaintext tables, rotate master keys, verify, status')
    .option(
      '-c, --config <path>',
      'config file (default: fieldseal.config.ts|.mts|.js|.mjs in the working directory)',
    )
    .option('--json', 'print one JSON document on stdout instead of text; no progress output')
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  const globals = () => program.opts<GlobalOptions>();
  const print = (json: unknown, text: string) =>
    io.out(globals().json ? `${JSON.stringify(json, bigintSafe, 2)}\n` : `${text}\n`);
  const guardHost: GuardCommandHost = {
    withConfig: (fn) => withConfig(globals(), fn),
    print,
    out: io.out,
    err: io.err,
    setExit,
    get interactive() {
      return !globals().json && process.stdin.isTTY === true && process.stdout.isTTY === true;
    },
  };

  const jobCommand = (command: Command) =>
    command
      .option('-m, --model <name>', 'only this model (or table)')
      .option('-b, --batch <n>', 'rows per batch, one transaction each', int('--batch'), 1000)
      .option('--concurrency <n>', 'chunks processed in parallel by this process', int('--concurrency'), 1)
      .option('--chunk-rows <n>', 'rows per chunk when the work is first split', int('--chunk-rows'), 50_000)
      .option(
        '--lease-seconds <n>',
        "seconds before a silent worker's chunk is taken over",
        int('--lease-seconds'),
        60,
      )
      .option('--dry-run', 'count what would change; write nothing');

  let stopping = false;
  /** Runs migrate or rotate with the options every job command shares (see `jobCommand`) and progress hooks. */
  const runJobCommand = async (
    label: string,
    o: Record<string, unknown>,
    run: (config: FieldsealConfig, common: object) => Promise<JobReport>,
  ) => {
    const progress = createProgress({ label, quiet: globals().json === true });
    let started = false;
    const onSignal = () => {
      stopping = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const report = await withConfig(globals(), (config) =>
        run(config, {
          onStart: ({ rows, done }: { rows: number; done: number }) => {
            if (started) progress.add(done);
            else progress.start(rows, done);
            started = true;
          },
          onBatch: ({ scanned }: { scanned: number }) => progress.add(scanned),
          shouldStop: () => stopping,
          model: o.model,
          batch: o.batch,
          concurrency: o.concurrency,
          chunkRows: o.chunkRows,
          leaseSeconds: o.leaseSeconds,
          dryRun: o.dryRun === true,
        }),
      );
      progress.stop();
      print(
        report,
        jobSummary(report) + (stopping ? '\nstopped by signal; run the command again to resume' : ''),
      );
      setExit(report.ok && !stopping ? EXIT.ok : EXIT.incomplete);
    } finally {
      progress.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };

  jobCommand(
    program.command('migrate').description('encrypt the plaintext values of existing rows (resumable)'),
  )
    .option('--decrypt', 'the way back: write plaintext and clear the data keys (removes the guards first)')
    .option('--install-guards', 'install the database guards of every table that ends 100% encrypted')
    .action(async (o) => {
      await runJobCommand(o.decrypt ? 'decrypt' : 'migrate', o, (config, common) =>
        migrate(config, { ...common, decrypt: o.decrypt === true }).then(async (report) => {
          // On the same config: it is loaded once per command (a config may consume its secrets).
          if (o.decrypt || o.dryRun) return report;
          const guarded = await guardsAfterMigrate(guardHost, config, {
            model: o.model,
            install: o.installGuards === true,
            json: globals().json === true,
          });
          return guarded ? report : { ...report, ok: false };
        }),
      );
    });

  jobCommand(program.command('rotate').description("re-wrap every row's data key under another master key"))
    .requiredOption(
      '--to <keyId>',
      'the master key id (local key id, KMS key id, ARN or alias) to wrap under',
    )
    .action(async (o) => {
      await runJobCommand('rotate', o, (config, common) => rotate(config, { ...common, to: o.to }));
    });

  program
    .command('verify')
    .description('decrypt every value; count encrypted, plaintext and undecryptable rows')
    .option('-m, --model <name>', 'only this model (or table)')
    .option('-b, --batch <n>', 'rows read per query', int('--batch'), 1000)
    .action(async (o) => {
      const progress = createProgress({ label: 'verify', quiet: globals().json === true });
      let total = 0;
      const report = await withConfig(globals(), (config) =>
        verify(config, {
          model: o.model,
          batch: o.batch,
          onStart: (rows) => {
            total += rows;
            progress.start(total, 0);
          },
          onBatch: (rows) => progress.add(rows),
        }).then(async (result) => {
          await warnMissingGuards(guardHost, config, { model: o.model, json: globals().json === true });
          return result;
        }),
      );
      progress.stop();
      const text = report.tables
        .map((t) => {
          const listed = t.problems
            .slice(0, 50)
            .map((p) => `    row ${p.rowId}${p.column ? ` (${p.column})` : ''}: ${p.code}`)
            .join('\n');
          return `  ${t.model}: ${t.rows} rows, ${t.encrypted} encrypted, ${t.plaintext} plaintext, ${t.empty} empty, ${t.undecryptable} undecryptable, ${t.indexMismatches} blind-index mismatches\n    checksum ${t.checksum}${listed ? `\n${listed}` : ''}`;
        })
        .join('\n');
      print(report, `verify: ${report.ok ? 'OK' : 'FAILED'}\n${text}`);
      setExit(report.ok ? EXIT.ok : EXIT.incomplete);
    });

  program
    .command('status')
    .description('per model: rows, percent encrypted, rows per master key id')
    .option('-m, --model <name>', 'only this model (or table)')
    .action(async (o) => {
      const report = await withConfig(globals(), (config) => status(config, { model: o.model }));
      const text = report.tables
        .map(
          (t) =>
            `  ${t.model} (${t.table}): ${t.rows} rows, ${t.percentEncrypted}% encrypted (${t.encrypted} encrypted, ${t.plaintext} plaintext, ${t.empty} empty)${
              Object.keys(t.keys).length
                ? `\n${Object.entries(t.keys)
                    .map(([id, n]) => `    key ${id}: ${n} rows`)
                    .join('\n')}`
                : ''
            }`,
        )
        .join('\n');
      print(report, `status:\n${text}`);
      setExit(EXIT.ok);
    });

  program
    .command('keygen')
    .description('print a new local master key ("keyId:base64") for LocalKeyring, once')
    .option('--id <keyId>', 'key id (default: the current year and month, e.g. 2026-11)')
    .option('--blind-index', "instead: a new blind-index key wrapped by the config's keyring")
    .action(async (o) => {
      const { BlindIndex, LocalKeyring } = await import('@fieldseal/core');
      if (o.blindIndex) {
        const key = await withConfig(globals(), (config) => BlindIndex.generateKey(config.keyring));
        print({ blindIndexKey: key }, key);
      } else {
        const id = o.id ?? new Date().toISOString().slice(0, 7);
        const text = LocalKeyring.generateKeyText(id);
        print({ keyId: id, key: text }, text);
      }
      setExit(EXIT.ok);
    });

  program
    .command('init')
    .description('write a commented starter fieldseal.config.ts')
    .addOption(
      new Option('--orm <orm>', 'the ORM your app uses').choices(['prisma', 'typeorm']).default('prisma'),
    )
    .option('--force', 'overwrite an existing file')
    .option('-o, --out <path>', 'file to write', 'fieldseal.config.ts')
    .action((o) => {
      const path = resolve(o.out);
      if (existsSync(path) && !o.force)
        throw new CliError('usage', `${path} exists; pass --force to overwrite it`);
      writeFileSync(path, initTemplate(o.orm as InitOrm));
      print({ written: path }, `wrote ${path}`);
      setExit(EXIT.ok);
    });

  // The local KMS server is its own package and binary, so the production CLI does not ship it.
  program
    .command('kms-server')
    .description('how to start the local AWS KMS server (its own package: @fieldseal/kms-local)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action((_o, command: Command) => {
      const args = command.args.join(' ');
      throw new CliError(
        'usage',
        `the local KMS server (development and tests only) is its own package; run it with\n  npx @fieldseal/kms-local${args ? ` ${args}` : ''}\n(or install it with "npm i -D @fieldseal/kms-local" and run "fieldseal-kms-local --help")`,
      );
    });

  addBranchKeyCommands(program, {
    withConfig: (fn) => withConfig(globals(), fn),
    print,
    setExit,
    json: () => globals().json === true,
  });

  // The cache-tuning benchmark lives in @fieldseal/bench (an optional peer, also runnable as
  // `fieldseal-bench`): loaded only when `bench` runs, so the CLI needs neither ORM to start.
  program
    .command('bench')
    .description('tune the data-key cache against a simulated KMS (needs @fieldseal/bench)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_o, command: Command) => {
      const bench = await importBench();
      await bench
        .benchCommand()
        .name('fieldseal bench')
        .configureOutput({ writeOut: io.out, writeErr: io.err })
        .exitOverride()
        .parseAsync(command.args, { from: 'user' });
    });
  program.addCommand(guardCommand(guardHost));

  return program;
}

/** `@fieldseal/bench`, or a usage error saying how to install it. */
async function importBench(): Promise<typeof import('@fieldseal/bench')> {
  try {
    return await import('@fieldseal/bench');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new CliError(
      'usage',
      'install @fieldseal/bench to run benchmarks ("npm i -D @fieldseal/bench"), or run "npx @fieldseal/bench"',
    );
  }
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Runs the CLI with `argv` (as `process.argv`); resolves to the exit code. */
export async function main(argv: readonly string[], io?: Io): Promise<number> {
  const out = io ?? {
    out: (t: string) => process.stdout.write(t),
    err: (t: string) => process.stderr.write(t),
  };
  let code: number = EXIT.ok;
  const program = buildProgram(out, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    // `bench` reports a failed check or an unmet --recommend target through process.exitCode.
    return code === EXIT.ok && typeof process.exitCode === 'number' ? process.exitCode : code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.config;
    }
    const json = program.opts<GlobalOptions>().json === true;
    const message = error instanceof Error ? error.message : String(error);
    const errorCode = isFieldsealError(error) ? error.code : 'error';
    if (json) out.out(`${JSON.stringify({ ok: false, error: { code: errorCode, message } }, null, 2)}\n`);
    else out.err(`fieldseal: ${message}\n`);
    return exitCodeOf(error);
  }
}
