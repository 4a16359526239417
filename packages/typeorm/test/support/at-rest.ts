import { type Keyring, RowEnvelope } from '@fieldseal/core';
import type { Logger } from 'typeorm';
import { planOfMetadata } from '../../src/runtime.js';
import type { TestDatabase } from './databases.js';

/**
 * Raw-SQL check of every table with encrypted columns, without the adapter: no cell holds one
 * of the plaintexts, and every encrypted value of every row opens with the data key stored
 * in that row (strict: legacy plaintext fails too). Returns what broke, empty when sound.
 */
export async function brokenAtRest(
  db: TestDatabase,
  keyring: Keyring,
  plaintexts: readonly string[],
): Promise<string[]> {
  const envelope = new RowEnvelope({ keyring, readMode: 'strict' });
  const broken: string[] = [];
  for (const metadata of db.dataSource.entityMetadatas) {
    const plan = planOfMetadata(metadata);
    if (!plan) continue;
    const rows: Record<string, unknown>[] = await db.dataSource.query(`SELECT * FROM ${db.t(plan.table)}`);
    const columns = [...plan.encrypted.values()].map((f) => f.column);
    for (const row of rows) {
      for (const cell of Object.values(row)) {
        const text = cell instanceof Uint8Array ? Buffer.from(cell).toString('latin1') : String(cell);
        for (const plain of plaintexts)
          if (plain.length >= 3 && text.includes(plain)) broken.push(`${plan.table}#${row.id}: "${plain}"`);
      }
      const values = Object.fromEntries(columns.filter((c) => row[c] !== null).map((c) => [c, row[c]]));
      if (Object.keys(values).length === 0) continue;
      try {
        await envelope.decryptRow({ table: plan.table, values, dataKey: row[plan.dataKey.column] });
      } catch (error) {
        broken.push(`${plan.table}#${row.id}: ${(error as Error).message}`);
      }
    }
  }
  return broken;
}

/** Captures every SQL statement and its parameters a data source sends. */
export class SqlCapture implements Logger {
  readonly sent: string[] = [];
  logQuery(query: string, parameters?: unknown[]): void {
    this.sent.push(`${query} ${JSON.stringify(parameters ?? [])}`);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  /** Statements whose text or parameters contain one of the plaintexts. */
  leaking(plaintexts: readonly string[]): string[] {
    return this.sent.filter((line) => plaintexts.some((p) => line.includes(p)));
  }
}
