/**
 * fieldseal quickstart: an ordinary Prisma app (or its TypeORM twin) with two encrypted columns,
 * on an embedded SQLite file and a local master key. Prints what the table stores beside what
 * the app reads.
 *
 *   pnpm quickstart                  # from the repository root: the Prisma app
 *   pnpm quickstart -- --typeorm     # the TypeORM twin
 *   pnpm quickstart -- --kms         # the AWS KMS keyring (real AWS SDK) against a local KMS server
 *   ... --check                      # also verify; exit non-zero on any mismatch (CI)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CachingKeyring } from '@fieldseal/cache';
import { checkDemo } from './check.js';
import { loadKeyring } from './keyring.js';
import { PEOPLE } from './people.js';
import { printTable } from './print.js';

const args = process.argv.slice(2);
const useTypeorm = args.includes('--typeorm');
const dataDir = join(import.meta.dirname, '..', '.data');
mkdirSync(dataDir, { recursive: true });

const { keyring: master, description, close } = await loadKeyring(dataDir);
// The cache is what makes envelope encryption cheap: one data key serves many rows, within bounds.
const keyring = new CachingKeyring(master, { maxAge: 60_000, maxUses: 1_000 });
const file = join(dataDir, useTypeorm ? 'quickstart-typeorm.db' : 'quickstart-prisma.db');
// Each ORM is loaded only when asked for.
const result = useTypeorm
  ? await (await import('./typeorm-demo.js')).typeormDemo(file, keyring)
  : await (await import('./prisma-demo.js')).prismaDemo(file, keyring);

console.log(
  `\nfieldseal quickstart — ${result.orm} on SQLite (.data/${file.split('/').pop()}), master key: ${description}\n`,
);
printTable(
  'Stored in the table (what a database dump shows)',
  result.stored.map((r) => ({
    id: r.id,
    name: r.name,
    email: r.email,
    ssn: r.ssn ?? 'NULL',
    dataKey: r.dataKey ?? 'NULL',
  })),
);
printTable(
  'Read by the app (ordinary ORM calls)',
  result.read.map((r) => ({
    id: r.id,
    name: r.name,
    email: r.email,
    ssn: r.ssn === null ? 'NULL' : JSON.stringify(r.ssn),
  })),
);
const stats = keyring.stats();
// Keys made past the cache (`bypasses`: the adapter's start-up self-check probe) are not row keys.
const rowKeysMade = stats.keyringCalls.generate - stats.bypasses;
console.log(
  `Data-key cache: ${stats.hits} hits, ${stats.misses} misses, ${rowKeysMade} data keys made for rows, ` +
    `${stats.keyringCalls.decrypt} unwrapped by the master key (${PEOPLE.length} rows written and read).`,
);
console.log(
  `Try ${useTypeorm ? 'the Prisma app: drop --typeorm' : 'the TypeORM twin: pnpm quickstart -- --typeorm'}.\n`,
);

if (args.includes('--check')) {
  const problems = checkDemo(result, rowKeysMade);
  if (problems.length > 0) {
    console.error(`CHECK FAILED:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  } else console.log('Check passed: every value encrypted at rest and read back exactly.');
}
keyring.close();
await close();
