import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import type { FieldsealConfig } from './config.js';
import { EXIT } from './errors.js';
import { type GuardTableStatus, guardSql, guardStatus, installGuards, removeGuards } from './guards.js';

/** What the guard command needs from the program: config loading, output, the exit code. */
export interface GuardCommandHost {
  withConfig<T>(fn: (config: FieldsealConfig) => Promise<T>): Promise<T>;
  /** Prints `json` under `--json`, else `text`. */
  print(json: unknown, text: string): void;
  /** Prints raw text (the `sql` output, unchanged by `--json`). */
  out(text: string): void;
  /** Prints a note on stderr (kept off stdout, so `--json` still prints one document). */
  err(text: string): void;
  /** True when a person can answer a question (stdin and stdout are terminals, no `--json`). */
  readonly interactive: boolean;
  setExit(code: number): void;
}

/** One table's guard status as text lines. */
export function guardStatusText(t: GuardTableStatus, changed?: readonly string[]): string {
  const state =
    t.missing.length === 0
      ? `all ${t.expected.length} guards installed${t.notValidated.length ? ` (${t.notValidated.length} not validated)` : ''}`
      : t.installed.length === 0
        ? `no guards installed (${t.expected.length} expected)`
        : `${t.missing.length} of ${t.expected.length} guards missing: ${t.missing.join(', ')}`;
  const lines = [
    `  ${t.model} (${t.table}): ${state}${changed?.length ? `; changed ${changed.length}` : ''}`,
  ];
  for (const v of t.violations)
    lines.push(
      `    ${v.rows} rows break ${v.guard} (${v.kind} column ${v.column}); first ids: ${v.firstIds.join(', ')}`,
    );
  return lines.join('\n');
}

/** `fieldseal guard status | install | remove | sql`. */
export function guardCommand(host: GuardCommandHost): Command {
  // A command added with addCommand inherits none of the program's settings (usage errors would
  // exit 1 and print to the real stderr): set them here, before the subcommands copy them.
  const guard = new Command('guard')
    .exitOverride()
    .configureOutput({ writeOut: host.out, writeErr: host.err })
    .showHelpAfterError()
    .description(
      'database guards: CHECK constraints refusing anything but fieldseal ciphertext in encrypted columns',
    );
  guard
    .command('status')
    .description(
      'per table: guards present or missing, and rows that break them (counts and ids, never values)',
    )
    .option('-m, --model <name>', 'only this model (or table)')
    .action(async (o) => {
      const report = await host.withConfig((config) => guardStatus(config, { model: o.model }));
      host.print(report, `guard status:\n${report.tables.map((t) => guardStatusText(t)).join('\n')}`);
      const ok = report.tables.every((t) => t.violations.length === 0 && t.missing.length === 0);
      host.setExit(ok ? EXIT.ok : EXIT.incomplete);
    });
  guard
    .command('install')
    .description('add the missing guards; a table whose rows break them is reported and left unchanged')
    .option('-m, --model <name>', 'only this model (or table)')
    .action(async (o) => {
      const report = await host.withConfig((config) => installGuards(config, { model: o.model }));
      const text = report.tables.map((t) => guardStatusText(t, t.changed)).join('\n');
      const hint = report.ok
        ? ''
        : '\nrows above hold values fieldseal did not write: run `fieldseal migrate`, then install again';
      host.print(
        report,
        `guard install: ${report.ok ? 'OK' : 'NOT INSTALLED where rows break a guard'}\n${text}${hint}`,
      );
      host.setExit(report.ok ? EXIT.ok : EXIT.incomplete);
    });
  guard
    .command('remove')
    .description('drop the guards (migrate --decrypt does this first)')
    .option('-m, --model <name>', 'only this model (or table)')
    .action(async (o) => {
      const report = await host.withConfig((config) => removeGuards(config, { model: o.model }));
      host.print(
        report,
        `guard remove:\n${report.tables.map((t) => guardStatusText(t, t.changed)).join('\n')}`,
      );
      host.setExit(EXIT.ok);
    });
  guard
    .command('sql')
    .description(
      'print the DDL (for prisma migrate, TypeORM migrations or your own tooling); changes nothing',
    )
    .option('-m, --model <name>', 'only this model (or table)')
    .option('--remove', 'the DDL removing them instead')
    .action(async (o) => {
      host.out(
        await host.withConfig((config) => guardSql(config, { model: o.model, remove: o.remove === true })),
      );
      host.setExit(EXIT.ok);
    });
  return guard;
}

/** Asks a yes/no question on the terminal; false unless the answer starts with y. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/**
 * After `migrate`, on its config: tables now fully encrypted but without guards get them
 * installed (`--install-guards`, or a "yes" on a terminal), else a hint naming the command (not
 * under `--json`). Only tables missing guards are scanned. False when an install was refused.
 */
export async function guardsAfterMigrate(
  host: GuardCommandHost,
  config: FieldsealConfig,
  options: { model?: string; install: boolean; json: boolean },
): Promise<boolean> {
  if (options.json && !options.install) return true;
  const ready: string[] = [];
  for (const t of (await guardStatus(config, { model: options.model, violations: false })).tables) {
    if (t.missing.length === 0) continue;
    const [checked] = (await guardStatus(config, { model: t.model })).tables;
    if (checked && checked.violations.length === 0) ready.push(t.model);
  }
  if (ready.length === 0) return true;
  const names = ready.join(', ');
  const install =
    options.install ||
    (host.interactive && (await confirm(`${names}: 100% encrypted. Install database guards now?`)));
  if (!install) {
    host.err(
      `hint: ${names} ${ready.length > 1 ? 'are' : 'is'} 100% encrypted; \`fieldseal guard install\` (or migrate --install-guards) makes the database refuse plaintext there\n`,
    );
    return true;
  }
  let ok = true;
  for (const model of ready) {
    const report = await installGuards(config, { model });
    host.err(`guard install:\n${report.tables.map((r) => guardStatusText(r, r.changed)).join('\n')}\n`);
    ok &&= report.ok;
  }
  return ok;
}

/** For `verify` (text mode): a warning per table whose guards are missing, on stderr; the exit code is unchanged. */
export async function warnMissingGuards(
  host: GuardCommandHost,
  config: FieldsealConfig,
  options: { model?: string; json: boolean },
): Promise<void> {
  if (options.json) return;
  const { tables } = await guardStatus(config, { model: options.model, violations: false });
  for (const t of tables.filter((each) => each.missing.length > 0))
    host.err(
      `warning: ${t.model} (${t.table}) lacks ${t.missing.length} of ${t.expected.length} database guards; nothing in the database stops plaintext written past fieldseal (fieldseal guard status)\n`,
    );
}
