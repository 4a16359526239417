import { setTimeout as sleep } from 'node:timers/promises';
import type { TestDb } from './db.js';
import { type CliRun, startCli } from './run-cli.js';

/**
 * Logs every change of a customer's data key (in the same transaction as the change, so a
 * killed transaction leaves no entry): proves each row was encrypted, or re-wrapped, exactly once.
 */
export async function installWriteLog(db: TestDb): Promise<void> {
  await db.sql('CREATE TABLE write_log (id INTEGER NOT NULL, kind TEXT NOT NULL)');
  if (db.dialect === 'postgres') {
    await db.sql(
      `CREATE FUNCTION log_key_write() RETURNS trigger AS $$ BEGIN INSERT INTO "${db.name}".write_log VALUES (NEW.id, CASE WHEN OLD.data_key IS NULL THEN 'migrate' ELSE 'rotate' END); RETURN NEW; END $$ LANGUAGE plpgsql`,
    );
    await db.sql(
      'CREATE TRIGGER customers_key_write AFTER UPDATE ON customers FOR EACH ROW WHEN (OLD.data_key IS DISTINCT FROM NEW.data_key) EXECUTE FUNCTION log_key_write()',
    );
  } else if (db.dialect === 'mysql') {
    await db.sql(
      "CREATE TRIGGER customers_key_write AFTER UPDATE ON customers FOR EACH ROW BEGIN IF NOT (OLD.data_key <=> NEW.data_key) THEN INSERT INTO write_log VALUES (NEW.id, IF(OLD.data_key IS NULL, 'migrate', 'rotate')); END IF; END",
    );
  } else {
    await db.sql(
      `CREATE TRIGGER customers_key_write AFTER UPDATE OF data_key ON customers FOR EACH ROW WHEN OLD.data_key IS NOT NEW.data_key BEGIN INSERT INTO write_log VALUES (NEW.id, CASE WHEN OLD.data_key IS NULL THEN 'migrate' ELSE 'rotate' END); END`,
    );
  }
}

/** Rows logged as written by `kind`, and how many rows were written more than once. */
export async function writeCounts(
  db: TestDb,
  kind: 'migrate' | 'rotate',
): Promise<{ rows: number; twice: number }> {
  const p = db.dialect === 'postgres' ? '$1' : '?';
  const [total] = await db.sql(`SELECT COUNT(DISTINCT id) AS n FROM write_log WHERE kind = ${p}`, [kind]);
  const twice = await db.sql(`SELECT id FROM write_log WHERE kind = ${p} GROUP BY id HAVING COUNT(*) > 1`, [
    kind,
  ]);
  return { rows: Number(total?.n ?? 0), twice: twice.length };
}

/**
 * Runs the binary `kills` times, SIGKILLing each run at a random moment after it has committed
 * some work (so kills land mid-run: mid-batch, mid-transaction or between batches), then once
 * more to the end. `maxDelayMs` bounds the random wait after the first commit: a fast job
 * (rotate only rewrites a column) needs short waits to be killed `kills` times before it ends.
 * Returns how many runs were really killed and the final run.
 */
export async function killAndResume(
  db: TestDb,
  args: readonly string[],
  env: Record<string, string>,
  kind: 'migrate' | 'rotate',
  kills: number,
  maxDelayMs = 250,
): Promise<{ killed: number; final: CliRun }> {
  let killed = 0;
  for (let k = 0; k < kills; k++) {
    const before = (await writeCounts(db, kind)).rows;
    const { child, done } = startCli(args, env);
    let finished = false;
    done.then(() => {
      finished = true;
    });
    const deadline = Date.now() + 60_000;
    while (!finished && Date.now() < deadline && (await writeCounts(db, kind)).rows <= before)
      await sleep(20);
    await sleep(Math.floor(Math.random() * maxDelayMs));
    child.kill('SIGKILL');
    const run = await done;
    if (run.signal === 'SIGKILL') killed++;
    else break; // it finished first: nothing left to interrupt
  }
  const final = await startCli(['--json', ...args], env).done;
  return { killed, final };
}
