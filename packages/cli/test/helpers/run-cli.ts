import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = join(here, '..', '..', 'bin', 'fieldseal.js');
export const FIXTURE_CONFIG = join(here, '..', 'fixtures', 'fieldseal.config.ts');

/** The outcome of one `fieldseal` subprocess. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts the built binary as a real subprocess (config from test/fixtures unless given). */
export function startCli(
  args: readonly string[],
  env: Record<string, string>,
  withConfig = true,
): {
  child: ChildProcess;
  done: Promise<CliRun>;
} {
  const child = spawn(process.execPath, [BIN, ...(withConfig ? ['--config', FIXTURE_CONFIG] : []), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs the binary to the end. */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  withConfig = true,
): Promise<CliRun> {
  return startCli(args, env, withConfig).done;
}

/**
 * Runs the built binary on a pseudo-terminal (util-linux `script`), so it sees a TTY on stdin and
 * stdout and asks its questions; `input` is typed into the terminal. Output is the terminal's
 * (stdout and stderr together).
 */
export function runCliOnTerminal(
  args: readonly string[],
  env: Record<string, string>,
  input: string,
): Promise<{ code: number | null; output: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, '--config', FIXTURE_CONFIG, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  child.stdin?.end(input);
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, output }));
  });
}
