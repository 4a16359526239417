// createMany then findMany of 10,000 rows with three encrypted string fields on SQLite:
// plain Prisma, @fieldseal/prisma (local keyring, with and without a CachingKeyring), and
// prisma-field-encryption, in the same process. Prints a Markdown table (median of the runs).
//   pnpm --filter @fieldseal/prisma bench        (ROWS=10000 RUNS=5 by default)
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachingKeyring } from '@fieldseal/cache';
import { BlindIndex, type Keyring, LocalKeyring } from '@fieldseal/core';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';
import { fieldEncryptionExtension } from 'prisma-field-encryption';
import { fieldEncryption } from '../src/index.js';
import { PrismaClient } from '../test/generated/sqlite/client/client.js';
import { fieldEncryptionMetadata } from '../test/generated/sqlite/fieldseal/metadata.js';

const ROWS = Number(process.env.ROWS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 5);

interface BenchClient {
  benchRow: {
    createMany(args: { data: { a: string; b: string; c: string }[] }): PromiseLike<{ count: number }>;
    findMany(): PromiseLike<{ a: string }[]>;
  };
  $disconnect(): Promise<void>;
}

function freshClient(): { client: PrismaClient; file: string } {
  const file = join(tmpdir(), `fs-bench-${randomBytes(4).toString('hex')}.db`);
  const db = new Database(file);
  db.exec(
    'CREATE TABLE "BenchRow" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "a" TEXT NOT NULL, "b" TEXT NOT NULL, "c" TEXT NOT NULL, "dataKey" TEXT)',
  );
  db.close();
  return { client: new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) }), file };
}

const local = LocalKeyring.fromString(LocalKeyring.generateKeyText('bench'));
const blindIndexKey = await BlindIndex.generateKey(local);
const withFieldseal = (keyring: Keyring) => (client: PrismaClient) =>
  client.$extends(
    fieldEncryption({ keyring, metadata: fieldEncryptionMetadata, blindIndexKey }),
  ) as unknown as BenchClient;

// prisma-field-encryption reads `/// @encrypted` from a DMMF document; Prisma 7's prisma-client
// generator no longer exposes one at runtime, so it gets the one field list it needs.
const field = (name: string, documentation?: string) => ({
  name,
  isList: false,
  isUnique: false,
  isId: name === 'id',
  type: name === 'id' ? 'Int' : 'String',
  ...(documentation ? { documentation } : {}),
});
const pfeDmmf = {
  datamodel: {
    models: [
      {
        name: 'BenchRow',
        fields: [
          field('id'),
          field('a', '@encrypted'),
          field('b', '@encrypted'),
          field('c', '@encrypted'),
          field('dataKey'),
        ],
      },
    ],
  },
};
const pfeKey = `k1.aesgcm256.${randomBytes(32).toString('base64url')}`;

const variants: [string, (client: PrismaClient) => BenchClient][] = [
  ['plain Prisma 7.10 (no encryption)', (client) => client as unknown as BenchClient],
  ['@fieldseal/prisma, LocalKeyring', withFieldseal(local)],
  ['@fieldseal/prisma, CachingKeyring(LocalKeyring)', withFieldseal(new CachingKeyring(local))],
  [
    'prisma-field-encryption 1.6.0',
    (client) =>
      client.$extends(
        fieldEncryptionExtension({ encryptionKey: pfeKey, dmmf: pfeDmmf as never }),
      ) as unknown as BenchClient,
  ],
];

const rows = Array.from({ length: ROWS }, (_, i) => ({
  a: `alice${i}@example.com`,
  b: `123-45-${String(i).padStart(4, '0')}`,
  c: `Some note number ${i}`,
}));
const median = (values: number[]) =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] as number;

// Runs interleave the variants, so background load on the machine falls on all of them alike.
const timings = variants.map(() => ({ creates: [] as number[], finds: [] as number[] }));
for (let run = 0; run < RUNS; run++) {
  for (const [index, [name, extend]] of variants.entries()) {
    const { client, file } = freshClient();
    const prisma = extend(client);
    const timing = timings[index] as { creates: number[]; finds: number[] };
    try {
      let start = performance.now();
      const { count } = await prisma.benchRow.createMany({ data: rows });
      timing.creates.push(performance.now() - start);
      start = performance.now();
      const found = await prisma.benchRow.findMany();
      timing.finds.push(performance.now() - start);
      if (count !== ROWS || found.length !== ROWS || found[ROWS - 1]?.a !== rows[ROWS - 1]?.a)
        throw new Error(`${name}: wrong result`);
    } finally {
      await client.$disconnect();
      rmSync(file, { force: true });
    }
  }
}
const results = variants.map(([name], index) => ({
  name,
  create: median(timings[index]?.creates ?? []),
  find: median(timings[index]?.finds ?? []),
}));

const base = results[0] as { create: number; find: number };
console.log(
  `\n${ROWS} rows, 3 encrypted strings each, SQLite (better-sqlite3 adapter), median of ${RUNS} runs, Node ${process.version}\n`,
);
console.log('| variant | createMany (ms) | findMany (ms) | total (ms) | vs plain |');
console.log('|---|---:|---:|---:|---:|');
for (const { name, create, find } of results) {
  const ratio = (create + find) / (base.create + base.find);
  console.log(
    `| ${name} | ${create.toFixed(0)} | ${find.toFixed(0)} | ${(create + find).toFixed(0)} | ${ratio.toFixed(2)}× |`,
  );
}
