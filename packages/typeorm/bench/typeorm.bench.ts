/**
 * save() then find() of 10,000 entities with three encrypted columns on SQLite (better-sqlite3,
 * in memory): plain TypeORM, fieldseal, and typeorm-encrypted, in one process and one run.
 *
 *   pnpm bench                                   (in packages/typeorm)
 *   pnpm bench -- --rows 10000 --rounds 5 --json bench-results/typeorm.json
 *   pnpm bench -- --file          (SQLite files in a temp directory instead of memory)
 *
 * Cases (each on its own data source, same columns, same values):
 * - plain:              three text columns, no encryption.
 * - fieldseal:          @Encrypted() on the three, data key per row from a CachingKeyring around a
 *                       LocalKeyring (defaults: a data key serves up to 10,000 rows / 5 minutes) —
 *                       the production shape, with a local master key standing in for KMS.
 * - fieldseal-nocache:  the same with the LocalKeyring alone: a fresh data key wrapped per row.
 * - typeorm-encrypted:  its EncryptionTransformer (AES-256-GCM, one static key from config, no
 *                       envelope, no KMS, no binding of values to their column).
 * Rounds are interleaved (every case once per round) after one warm-up round; medians reported.
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CachingKeyring } from '@fieldseal/cache';
import { type Keyring, LocalKeyring } from '@fieldseal/core';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { EncryptionTransformer } from 'typeorm-encrypted';
import { DataKeyColumn, Encrypted, fieldEncryption } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '5' },
    json: { type: 'string' },
    file: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);
const DIR = args.file ? mkdtempSync(join(tmpdir(), 'fieldseal-bench-')) : undefined;
const WHERE = DIR ? 'SQLite files (default journal)' : 'SQLite in memory';

@Entity()
class PlainUser {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @Column({ type: 'text' }) email!: string;
  @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @Column({ type: 'text', nullable: true }) note!: string | null;
}

@Entity()
class SealedUser {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @Encrypted() @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @Encrypted() @Column({ type: 'text', nullable: true }) note!: string | null;
  @DataKeyColumn() dataKey!: string | null;
}

const staticKey = new EncryptionTransformer({
  key: 'e41c966f21f9e1577802463f8924e6a3fe3e9751f201304213b2f845d8841d61',
  algorithm: 'aes-256-gcm',
  ivLength: 12,
});

@Entity()
class TeUser {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @Column({ type: 'text', transformer: staticKey }) email!: string;
  @Column({ type: 'text', nullable: true, transformer: staticKey }) ssn!: string | null;
  @Column({ type: 'text', nullable: true, transformer: staticKey }) note!: string | null;
}

type Row = { name: string; email: string; ssn: string | null; note: string | null };
const rows: Row[] = Array.from({ length: ROWS }, (_, i) => ({
  name: `user ${i}`,
  email: `user${i}@example.com`,
  ssn: `${String(i).padStart(3, '0').slice(-3)}-45-${String(i % 10000).padStart(4, '0')}`,
  note: i % 5 === 0 ? null : `customer since ${2000 + (i % 25)}, prefers email contact`,
}));

interface Case {
  readonly name: string;
  readonly repo: Repository<Row & { id: number }>;
  readonly close: () => Promise<void>;
}

async function open(name: string, entity: new () => object, keyring?: Keyring): Promise<Case> {
  const database = DIR ? join(DIR, `${entity.name}-${name.length}.db`) : ':memory:';
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database,
    entities: [entity],
    synchronize: true,
  });
  await dataSource.initialize();
  if (keyring) await fieldEncryption(dataSource, { keyring });
  return {
    name,
    repo: dataSource.getRepository(entity) as unknown as Repository<Row & { id: number }>,
    close: () => dataSource.destroy(),
  };
}

async function measure(c: Case): Promise<{ save: number; find: number }> {
  await c.repo.clear();
  const entities = rows.map((r) => c.repo.create({ ...r }));
  const t0 = performance.now();
  await c.repo.save(entities, { chunk: 1000 });
  const t1 = performance.now();
  const found = await c.repo.find();
  const t2 = performance.now();
  if (found.length !== ROWS || found[ROWS - 1]?.email !== rows[ROWS - 1]?.email)
    throw new Error(`${c.name}: read back wrong data`);
  return { save: t1 - t0, find: t2 - t1 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const master = LocalKeyring.fromString(LocalKeyring.generateKeyText('bench'));
const cache = new CachingKeyring(master);
const cases = [
  await open('plain TypeORM', PlainUser),
  await open('fieldseal (CachingKeyring)', SealedUser, cache),
  await open('fieldseal (no cache: key per row)', SealedUser, master),
  await open('typeorm-encrypted (static key)', TeUser),
];
const samples = new Map(cases.map((c) => [c.name, { save: [] as number[], find: [] as number[] }]));
for (let round = 0; round <= ROUNDS; round++) {
  for (const c of cases) {
    const result = await measure(c);
    if (round === 0) continue; // warm-up
    samples.get(c.name)?.save.push(result.save);
    samples.get(c.name)?.find.push(result.find);
  }
}
const plain = samples.get('plain TypeORM')!;
const plainTotal = median(plain.save) + median(plain.find);
const report = cases.map((c) => {
  const s = samples.get(c.name)!;
  const save = median(s.save);
  const find = median(s.find);
  return {
    case: c.name,
    saveMs: Math.round(save),
    findMs: Math.round(find),
    totalMs: Math.round(save + find),
    vsPlain: Number(((save + find) / plainTotal).toFixed(2)),
  };
});
console.log(
  `\nsave() then find() of ${ROWS} entities, 3 encrypted text columns, ${WHERE}; median of ${ROUNDS} rounds (Node ${process.version})\n`,
);
console.table(report);
const stats = cache.stats();
console.log(
  `CachingKeyring: ${stats.keyringCalls.generate} data keys generated, ${stats.keyringCalls.decrypt} unwrapped by the master key, ${stats.hits} hits.`,
);
if (args.json) {
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(
    args.json,
    `${JSON.stringify({ rows: ROWS, rounds: ROUNDS, storage: WHERE, node: process.version, report }, null, 2)}\n`,
  );
}
cache.close();
for (const c of cases) await c.close();
if (DIR) rmSync(DIR, { recursive: true, force: true });
