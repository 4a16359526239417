/**
 * fieldseal + TypeORM: encrypted entity columns on an embedded SQLite file, with a local
 * master key. Saves customers and their orders, looks one up by email, updates and upserts,
 * then shows what is stored at rest beside what the app reads back.
 *
 *   pnpm start            # in examples/typeorm-app
 *   pnpm test             # the same with --check: verify, exit non-zero on any mismatch (CI)
 */
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CachingKeyring } from '@fieldseal/cache';
import { isEncryptedValue } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/typeorm';
import { DataSource, In } from 'typeorm';
import { Customer, Order } from './entities.js';
import { loadKeys } from './keys.js';

const check = process.argv.includes('--check');
const dataDir = join(import.meta.dirname, '..', '.data');
mkdirSync(dataDir, { recursive: true });

const { keyring: master, blindIndexKey, description } = await loadKeys(dataDir);
// The cache makes envelope encryption cheap: one data key serves many rows, within bounds.
const keyring = new CachingKeyring(master, { maxAge: 60_000, maxUses: 1_000 });
const dataSource = new DataSource({
  type: 'better-sqlite3',
  database: join(dataDir, 'typeorm-app.db'),
  entities: [Customer, Order],
  synchronize: true,
  dropSchema: true, // a fresh example every run
});
await dataSource.initialize();
// The one line an app adds: from here on, Customer and Order are encrypted transparently.
const encryption = await fieldEncryption(dataSource, { keyring, blindIndexKey });
const customers = dataSource.getRepository(Customer);

await customers.save([
  customers.create({
    name: 'Ada',
    email: 'ada@example.com',
    ssn: '078-05-1120',
    birthday: new Date('1815-12-10'),
    orders: [
      {
        totalCents: 4200,
        address: '12 St James Square, London',
        giftMessage: { to: 'Charles', text: 'For the engine' },
      },
    ] as Order[],
  }),
  customers.create({ name: 'Grace', email: 'grace@example.com', ssn: null, birthday: null, orders: [] }),
  customers.create({
    name: 'Alan',
    email: 'alan@example.org',
    ssn: '219-09-9999',
    birthday: new Date('1912-06-23'),
    orders: [],
  }),
]);
// Equality lookups use the blind index (normalized: case and spaces do not matter).
const ada = await customers.findOneOrFail({
  where: { email: ' ADA@example.com' },
  relations: { orders: true },
});
// A partial update encrypts under the row's own data key; other columns are not rewritten.
await customers.update({ email: 'grace@example.com' }, { ssn: '123-45-6789' });
await customers.upsert({ email: 'alan@example.org', name: 'Alan M. Turing' }, ['email']);
const both = await customers.findBy({ email: In(['grace@example.com', 'alan@example.org']) });
const joined = await dataSource
  .getRepository(Order)
  .createQueryBuilder('o')
  .innerJoinAndSelect('o.customer', 'c')
  .getMany();

type Raw = Record<string, unknown>;
const stored = (await dataSource.query(
  'SELECT id, name, email, emailIndex, ssn, birthday, dataKey FROM customer ORDER BY id',
)) as Raw[];
const storedOrders = (await dataSource.query(
  'SELECT id, address, giftMessage, dataKey FROM "order" ORDER BY id',
)) as Raw[];
const readBack = await customers.find({ order: { id: 'ASC' } });

// Values under one data key share their first bytes (the key commitment); show the ends.
const short = (v: unknown) =>
  v === null
    ? 'NULL'
    : String(v).length > 28
      ? `${String(v).slice(0, 5)}…${String(v).slice(-18)}`
      : String(v);
console.log(`\nfieldseal + TypeORM — SQLite file .data/typeorm-app.db, master key: ${description}\n`);
console.log('Stored at rest (what a database dump shows):');
console.table(stored.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, short(v)]))));
console.log('Read back by the app:');
console.table(
  readBack.map((c) => ({
    id: c.id,
    name: c.name,
    email: c.email,
    ssn: c.ssn ?? 'NULL',
    birthday: c.birthday?.toISOString().slice(0, 10) ?? 'NULL',
  })),
);
console.log(`Ada's order: ${ada.orders[0]?.address} — gift for ${ada.orders[0]?.giftMessage?.to}`);
console.log(`QueryBuilder join: ${joined.map((o) => `${o.customer.name} → ${o.address}`).join('; ')}`);
const stats = keyring.stats();
console.log(`Data-key cache: ${stats.keyringCalls.generate} data keys made, ${stats.hits} cache hits.\n`);

if (check) {
  const problems: string[] = [];
  const expectThat = (ok: boolean, what: string) => ok || problems.push(what);
  for (const row of stored) {
    for (const column of ['email', 'ssn', 'birthday'])
      expectThat(
        row[column] === null || isEncryptedValue(row[column]),
        `customer ${row.id}: ${column} is not ciphertext`,
      );
    expectThat(String(row.dataKey).startsWith('fsk2:'), `customer ${row.id} has no data key`);
  }
  for (const row of storedOrders)
    expectThat(
      isEncryptedValue(row.address) && isEncryptedValue(row.giftMessage),
      `order ${row.id} holds plaintext`,
    );
  const dump = JSON.stringify([stored, storedOrders]);
  for (const secret of ['ada@example.com', '078-05-1120', '123-45-6789', 'St James', 'Charles'])
    expectThat(!dump.includes(secret), `"${secret}" found at rest`);
  expectThat(
    ada.email === 'ada@example.com' && ada.birthday?.toISOString() === '1815-12-10T00:00:00.000Z',
    'lookup by email read back wrong',
  );
  expectThat(ada.orders[0]?.giftMessage?.text === 'For the engine', 'typed JSON value read back wrong');
  expectThat(both.length === 2 && both.every((c) => c.ssn !== null), 'In() lookup or update read back wrong');
  expectThat(
    readBack.find((c) => c.email === 'alan@example.org')?.name === 'Alan M. Turing',
    'upsert did not update',
  );
  expectThat(
    readBack.find((c) => c.email === 'alan@example.org')?.ssn === '219-09-9999',
    'upsert broke another column of the row',
  );
  expectThat(
    encryption.indexValue(Customer, 'email', 'ada@example.com') === stored[0]?.emailIndex,
    'blind index helper disagrees',
  );
  if (problems.length > 0) {
    console.error(`CHECK FAILED:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  } else console.log('Check passed: every encrypted value is ciphertext at rest and reads back exactly.');
}
keyring.close();
await dataSource.destroy();
