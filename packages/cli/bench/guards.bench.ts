// Benchmark of the write cost of the database guards on the local PostgreSQL: insert
// throughput into the same table with and without every guard installed, in one run. Rows are
// encrypted once beforehand (the encryption cost is not what is measured); rounds alternate
// between the two tables so load on the machine affects both alike. Three shapes: one INSERT per
// row, each committed (an app's create); one INSERT per row in one transaction (no commit cost
// to hide the check); 500 rows per INSERT (a bulk load, the check's largest share). No
// application work is done around them, so these are upper bounds of the guards' cost.
//   pnpm --filter @fieldseal/cli exec tsx bench/guards.bench.ts [--rows 20000] [--rounds 3]
import { randomBytes } from 'node:crypto';
import {
  BlindIndex,
  guardInstallSql,
  LocalKeyring,
  RowEnvelope,
  type StoredTable,
  tableGuards,
} from '@fieldseal/core';
import pg from 'pg';

const PG_URL = process.env.FIELDSEAL_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROWS = arg('rows', 20_000);
const ROUNDS = arg('rounds', 3);
const BULK = 500;

const schema = `fs_guard_bench_${randomBytes(4).toString('hex')}`;
const table = (name: string): StoredTable => ({
  model: name,
  table: name,
  schema,
  primaryKey: ['id'],
  dataKeyColumn: 'data_key',
  columns: [
    {
      field: 'email',
      column: 'email',
      output: 'text',
      blindIndex: { field: 'emailHash', column: 'email_hash' },
    },
    { field: 'ssn', column: 'ssn', output: 'text' },
  ],
});

type Row = [string, string, string, string];

async function encryptedRows(count: number): Promise<Row[]> {
  const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('bench'));
  const envelope = new RowEnvelope({ keyring });
  const index = await BlindIndex.open({ keyring, wrappedKey: await BlindIndex.generateKey(keyring) });
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const email = `person${i}@example.com`;
    const { values, dataKey } = await envelope.encryptRow({
      table: 'bench',
      values: { email, ssn: `AB-${String(i).padStart(9, '0')}` },
    });
    rows.push([
      values.email as string,
      index.compute('bench', 'email', email),
      values.ssn as string,
      dataKey,
    ]);
  }
  return rows;
}

async function insertAll(
  pool: pg.Pool,
  name: string,
  rows: Row[],
  perStatement: number,
  oneTransaction: boolean,
): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query(`TRUNCATE "${schema}"."${name}"`);
    const began = performance.now();
    if (oneTransaction) await client.query('BEGIN');
    for (let at = 0; at < rows.length; at += perStatement) {
      const chunk = rows.slice(at, at + perStatement);
      const values = chunk.map(
        (_, r) => `($${r * 5 + 1}, $${r * 5 + 2}, $${r * 5 + 3}, $${r * 5 + 4}, $${r * 5 + 5})`,
      );
      await client.query(
        `INSERT INTO "${schema}"."${name}" (id, email, email_hash, ssn, data_key) VALUES ${values.join(', ')}`,
        chunk.flatMap((row, r) => [at + r + 1, ...row]),
      );
    }
    if (oneTransaction) await client.query('COMMIT');
    return rows.length / ((performance.now() - began) / 1000);
  } finally {
    client.release();
  }
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
  await pool.query(`CREATE SCHEMA "${schema}"`);
  try {
    for (const name of ['plain', 'guarded'])
      await pool.query(
        `CREATE TABLE "${schema}"."${name}" (id INTEGER PRIMARY KEY, email TEXT NOT NULL, email_hash TEXT UNIQUE, ssn TEXT, data_key TEXT)`,
      );
    const tg = tableGuards(table('guarded'), 'postgres');
    for (const statement of Object.values(guardInstallSql(tg)).flat()) await pool.query(statement);
    const rows = await encryptedRows(ROWS);
    const results: { shape: string; plain: number; guarded: number; ratio: number }[] = [];
    // Fewer rows where each is committed alone: a commit waits for the disk.
    for (const [shape, perStatement, count, oneTransaction] of [
      ['one row per INSERT, each committed', 1, Math.ceil(ROWS / 40), false],
      ['one row per INSERT, one transaction', 1, Math.ceil(ROWS / 4), true],
      [`${BULK} rows per INSERT`, BULK, ROWS, false],
    ] as const) {
      const sample = rows.slice(0, count);
      const rates = { plain: [] as number[], guarded: [] as number[] };
      // Round 0 warms caches and is not counted.
      for (let round = 0; round <= ROUNDS; round++)
        for (const name of round % 2 ? (['guarded', 'plain'] as const) : (['plain', 'guarded'] as const)) {
          const rate = await insertAll(pool, name, sample, perStatement, oneTransaction);
          if (round > 0) rates[name].push(rate);
        }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
      const plain = median(rates.plain);
      const guarded = median(rates.guarded);
      results.push({
        shape: `${shape} (${count.toLocaleString('en-US')} rows)`,
        plain: Math.round(plain),
        guarded: Math.round(guarded),
        ratio: guarded / plain,
      });
    }
    console.log(
      `guard write cost on PostgreSQL: encrypted rows inserted, median of ${ROUNDS} alternating rounds`,
    );
    console.log('| shape | without guards (rows/s) | with guards (rows/s) | ratio |');
    console.log('|---|---:|---:|---:|');
    for (const r of results)
      console.log(
        `| ${r.shape} | ${r.plain.toLocaleString('en-US')} | ${r.guarded.toLocaleString('en-US')} | ${r.ratio.toFixed(2)} |`,
      );
  } finally {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
  }
}

await main();
