import { setTimeout as sleep } from 'node:timers/promises';
import type { TestDb } from './db.js';
import { type CliRun, startCli } from './run-cli.js';

/** Customers whose data-key column is set (rows migrate has written). */
export async function encryptedCount(db: TestDb): Promise<number> {
  const [row] = await db.sql(`SELECT COUNT(*) AS n FROM ${db.t('customers')} WHERE data_key IS NOT NULL`);
  return Number(row?.n ?? 0);
}

/**
 * Starts `fieldseal <args>` and interrupts it with `signal` once it has committed at least
 * `atLeast` rows. Returns the run and the rows written at the moment of the signal; throws when
 * the run ended before it could be interrupted (the test would prove nothing).
 */
export async function interruptAfterProgress(
  db: TestDb,
  args: readonly string[],
  env: Record<string, string>,
  signal: NodeJS.Signals,
  atLeast = 1,
): Promise<CliRun> {
  const { child, done } = startCli(args, env);
  let finished = false;
  done.then(() => {
    finished = true;
  });
  const deadline = Date.now() + 60_000;
  while (!finished && Date.now() < deadline && (await encryptedCount(db)) < atLeast) await sleep(10);
  if (finished) throw new Error(`the run ended before it was interrupted: ${(await done).stderr}`);
  child.kill(signal);
  return done;
}
