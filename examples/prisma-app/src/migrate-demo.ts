// Adopting fieldseal on a table that already holds plaintext, with the `fieldseal` CLI:
// legacy rows are written without encryption, then `fieldseal status`, `migrate` and `verify`
// run as real commands (with ../fieldseal.config.ts), and the app reads the rows in strict mode.
// Run: pnpm --filter @fieldseal/example-prisma-app migrate-demo   (`--check`: quiet, for CI)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { createClient, createTables } from './db.js';
import { loadKeys } from './keys.js';

const check = process.argv.includes('--check');
const log = (...args: unknown[]) => {
  if (!check) console.log(...args);
};
const dataDir = mkdtempSync(join(tmpdir(), 'fieldseal-migrate-demo-'));
const file = join(dataDir, 'app.db');
const bin = join(
  dirname(createRequire(import.meta.url).resolve('@fieldseal/cli/package.json')),
  'bin',
  'fieldseal.js',
);
const config = join(import.meta.dirname, '..', 'fieldseal.config.ts');

/** Runs `fieldseal <args> --json` against this demo's database; returns its JSON report. */
function fieldseal(...args: string[]): Record<string, unknown> {
  log(`$ fieldseal ${args.join(' ')}`);
  const out = execFileSync(process.execPath, [bin, '--config', config, '--json', ...args], {
    env: { ...process.env, APP_DATA_DIR: dataDir },
    encoding: 'utf8',
  });
  return JSON.parse(out) as Record<string, unknown>;
}

try {
  // 1. The app before fieldseal: plaintext in the columns that are about to be encrypted.
  createTables(file);
  const legacy = new Database(file);
  const insert = legacy.prepare('INSERT INTO "User" (email, ssn, name) VALUES (?, ?, ?)');
  const people = Array.from({ length: 500 }, (_, i) => ({
    email: `Person${i}@Example.com`,
    ssn: i % 4 === 0 ? null : `900-00-${String(i).padStart(4, '0')}`,
    name: `Person ${i}`,
  }));
  for (const p of people) insert.run(p.email, p.ssn, p.name);
  legacy.close();
  log(`${people.length} legacy users written in plaintext`);

  // 2. status, then migrate, then verify: the runbook of docs/migrating.md.
  const before = fieldseal('status') as { tables: { model: string; rows: number; encrypted: number }[] };
  log(before.tables.map((t) => `${t.model}: ${t.encrypted}/${t.rows} encrypted`).join(', '));
  assert.equal(before.tables.find((t) => t.model === 'User')?.encrypted, 0);

  const migrated = fieldseal('migrate', '--batch', '200') as {
    totals: { written: number; problems: number };
  };
  log(`migrate: ${migrated.totals.written} rows written, ${migrated.totals.problems} problems`);
  assert.equal(migrated.totals.written, people.length);

  const verified = fieldseal('verify') as {
    tables: { model: string; encrypted: number; plaintext: number; undecryptable: number }[];
  };
  const users = verified.tables.find((t) => t.model === 'User');
  log(
    `verify: ${users?.encrypted} encrypted, ${users?.plaintext} plaintext, ${users?.undecryptable} undecryptable`,
  );
  assert.deepEqual(
    { encrypted: users?.encrypted, plaintext: users?.plaintext, undecryptable: users?.undecryptable },
    { encrypted: people.length, plaintext: 0, undecryptable: 0 },
  );

  // 3. Running it again finds nothing to do: already-encrypted rows are skipped.
  const again = fieldseal('migrate') as { totals: { written: number } };
  assert.equal(again.totals.written, 0);

  // 4. The app, in strict mode, reads what the CLI wrote, and finds users through the blind index.
  const { prisma } = createClient(file, await loadKeys(join(dataDir, 'dev-keys.json')));
  try {
    const found = await prisma.user.findFirstOrThrow({ where: { email: 'person42@example.com' } });
    log('lookup by email after migration:', { name: found.name, email: found.email, ssn: found.ssn });
    assert.equal(found.name, 'Person 42');
    assert.equal(found.email, 'Person42@Example.com');
    assert.equal(found.ssn, '900-00-0042');
    const all = await prisma.user.findMany({ orderBy: { id: 'asc' } });
    assert.deepEqual(
      all.map((u) => ({ email: u.email, ssn: u.ssn, name: u.name })),
      people,
    );
  } finally {
    await prisma.$disconnect();
  }
  const raw = new Database(file, { readonly: true });
  const plaintextLeft = raw
    .prepare(
      `SELECT COUNT(*) AS n FROM "User" WHERE email NOT LIKE 'fs2:%' OR (ssn IS NOT NULL AND ssn NOT LIKE 'fs2:%')`,
    )
    .get() as { n: number };
  raw.close();
  assert.equal(plaintextLeft.n, 0);
  log('no plaintext left at rest');
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
if (check) console.log('prisma-app migrate-demo check passed');
