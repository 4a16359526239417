/**
 * fieldseal quickstart: encrypted columns in an embedded SQLite file, with a local master key.
 * Writes a few users, then shows what is stored at rest beside what the app reads back.
 *
 *   pnpm quickstart            # from the repository root
 *   pnpm start -- --check      # also verify, exit non-zero on any mismatch (used by CI)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CachingKeyring } from '@fieldseal/cache';
import { RowEnvelope } from '@fieldseal/core';
import Database from 'better-sqlite3';
import { loadKeyring } from './keyring.js';
import { printTable } from './print.js';

const check = process.argv.includes('--check');
const dataDir = join(import.meta.dirname, '..', '.data');
mkdirSync(dataDir, { recursive: true });

const { keyring: master, description, close } = await loadKeyring(dataDir);
// The cache is what makes envelope encryption cheap: one data key serves many rows, within bounds.
const keyring = new CachingKeyring(master, { maxAge: 60_000, maxUses: 1_000 });
const envelope = new RowEnvelope({ keyring });

const db = new Database(join(dataDir, 'quickstart.db'));
db.exec(`DROP TABLE IF EXISTS users;
  CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, ssn TEXT, data_key TEXT NOT NULL)`);

const people = [
  { name: 'Ada', email: 'ada@example.com', ssn: '078-05-1120' },
  { name: 'Grace', email: 'grace@example.com', ssn: null },
  { name: 'Alan', email: 'alan@example.org', ssn: '219-09-9999' },
  { name: 'Edsger', email: 'edsger@example.nl', ssn: '' },
];

const insert = db.prepare('INSERT INTO users (name, email, ssn, data_key) VALUES (?, ?, ?, ?)');
for (const person of people) {
  // `name` stays plaintext; `email` and `ssn` are encrypted under the row's data key.
  const { values, dataKey } = await envelope.encryptRow({ table: 'users', values: { email: person.email, ssn: person.ssn } });
  insert.run(person.name, values.email, values.ssn, dataKey);
}

type Row = { id: number; name: string; email: string; ssn: string | null; data_key: string };
const stored = db.prepare('SELECT * FROM users ORDER BY id').all() as Row[];
const readBack = await Promise.all(
  stored.map(async (row) => ({
    ...row,
    ...(await envelope.decryptRow({ table: 'users', rowId: row.id, values: { email: row.email, ssn: row.ssn }, dataKey: row.data_key })),
  })),
);

console.log(`\nfieldseal quickstart — SQLite file ${join('.data', 'quickstart.db')}, master key: ${description}\n`);
printTable(
  'Stored at rest (what a database dump shows)',
  stored.map((r) => ({ id: r.id, name: r.name, email: r.email, ssn: r.ssn ?? 'NULL', data_key: r.data_key })),
);
printTable(
  'Read back by the app',
  readBack.map((r) => ({ id: r.id, name: r.name, email: String(r.email), ssn: r.ssn === null ? 'NULL' : JSON.stringify(r.ssn) })),
);
const stats = keyring.stats();
console.log(
  `Data-key cache: ${stats.hits} hits, ${stats.misses} misses, ${stats.keyringCalls.generate} data keys made, ` +
    `${stats.keyringCalls.decrypt} unwrapped by the master key (${people.length} rows written and read).\n`,
);

if (check) {
  const problems: string[] = [];
  people.forEach((person, i) => {
    const atRest = stored[i] as Row;
    const back = readBack[i];
    if (back?.email !== person.email || back?.ssn !== person.ssn) problems.push(`row ${i + 1} did not read back equal`);
    if (atRest.email.includes(person.email) || (person.ssn && atRest.ssn?.includes(person.ssn))) problems.push(`row ${i + 1} holds plaintext at rest`);
    if (person.ssn === '' && !atRest.ssn?.startsWith('fs1:')) problems.push('an empty string was not encrypted');
    if (person.ssn === null && atRest.ssn !== null) problems.push('a null was not kept as NULL');
  });
  if (stats.keyringCalls.generate !== 1) problems.push(`expected 1 data key for ${people.length} rows, made ${stats.keyringCalls.generate}`);
  if (problems.length > 0) {
    console.error(`CHECK FAILED:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  } else console.log('Check passed: every value encrypted at rest and read back exactly.');
}
keyring.close();
db.close();
await close();
