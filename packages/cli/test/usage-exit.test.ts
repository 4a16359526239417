import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

// Scripts tell "you called it wrong" (2) from "it ran and found problems" (1) by the exit code,
// whichever way a command is registered (program.command, addCommand, nested subcommands).
describe('usage errors exit 2 on every command', () => {
  const cases: string[][] = [
    ['migrate', '--bogus'],
    ['nope'],
    ['guard', 'bogus'],
    ['guard', 'status', '--bogus'],
    ['guard', 'install', '--bogus'],
    ['rebind', '--bogus'],
    ['branch-key', 'bogus'],
    ['branch-key', 'create', '--bogus'],
    ['shred', '--bogus'],
    ['rotate', '--batch', 'many'],
  ];
  it.each(cases)('fieldseal %s …', async (...args) => {
    const run = await runCli(args, {}, false);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/error: |must be/);
    expect(run.stdout).toBe('');
  });
});
