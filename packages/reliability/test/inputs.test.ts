/**
 * Unusual inputs through full adapter round trips (write, raw check, read back): Unicode
 * including astral characters and ZWJ sequences, empty strings, nulls, 10 MB values and binary
 * values holding every byte value — on TypeORM and Prisma, SQLite and PostgreSQL.
 */
import { CachingKeyring } from '@fieldseal/cache';
import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Customer } from './support/entities.js';
import {
  type EncryptedClient,
  encryptedClient,
  openPrismaDb,
  PRISMA_DIALECTS,
  type PrismaDb,
} from './support/prisma-db.js';
import { auditRows, DIALECTS, openTypeormDb, type TypeormDb } from './support/typeorm-db.js';

const UNICODE = [
  'ascii only',
  'Ünïcödé — ≠ ∞ €',
  '中文 日本語 한국어 العربية עברית',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕒𝕤𝕥𝕣𝕒𝕝 😀🎉🧬 𠜎𠜱𠝹',
  '👩‍👩‍👧‍👦 🏳️‍🌈 🇺🇳 e\u0301 a\u030A',
  'control \u0001\u0007\t\r\n and NUL \u0000 inside',
  '\u202Eright-to-left override\u202C \uFEFF BOM \u200B zero width',
  'fs1 look-alike but not a prefix: xfs1:abc',
];
const EVERY_BYTE = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
const TEN_MB = 10 * 1024 * 1024;

/** A 10 MB string mixing 1-, 2-, 3- and 4-byte UTF-8 characters. */
function tenMegabyteText(): string {
  const unit = 'a\u00e9\u4e2d\u{1F600}'; // 1 + 2 + 3 + 4 bytes of UTF-8
  return unit.repeat(TEN_MB / 10);
}

describe.each(DIALECTS)('input round trips through TypeORM on %s', (dialect) => {
  let db: TypeormDb;
  let cache: CachingKeyring;
  beforeAll(async () => {
    cache = new CachingKeyring(LocalKeyring.fromString(LocalKeyring.generateKeyText('inputs')));
    db = await openTypeormDb(dialect, cache);
  });
  afterAll(async () => {
    cache?.close();
    await db?.drop();
  });
  const customers = () => db.dataSource.getRepository(Customer);

  it('Unicode (astral, ZWJ, combining, controls, NUL, bidi), empty strings and nulls come back exactly', async () => {
    const saved = await customers().save(
      UNICODE.map((text, i) =>
        customers().create({ handle: `u${i}`, email: text, ssn: i % 2 ? '' : null, photo: null }),
      ),
    );
    const read = await customers().findBy(saved.map((c) => ({ id: c.id })));
    expect(read.map((c) => c.email)).toEqual(UNICODE);
    expect(read.map((c) => c.ssn)).toEqual(UNICODE.map((_, i) => (i % 2 ? '' : null)));
    const raw = await db.rows('customer');
    expect(raw.every((r) => String(r.email).startsWith('fs2:'))).toBe(true);
    expect(raw.filter((r) => r.ssn !== null).every((r) => String(r.ssn).startsWith('fs2:'))).toBe(true); // '' is encrypted too
    expect(raw.filter((r) => r.ssn === null).length).toBe(UNICODE.length / 2); // null stays NULL
    expect((await auditRows(db, 'customer')).broken).toEqual([]);
  });

  it('binary values holding every byte value, and an empty buffer', async () => {
    const saved = await customers().save([
      customers().create({ handle: 'bytes', email: 'b@x.example', photo: Buffer.from(EVERY_BYTE) }),
      customers().create({ handle: 'empty-bytes', email: 'e@x.example', photo: Buffer.alloc(0) }),
    ]);
    const [all, empty] = (await Promise.all(saved.map((c) => customers().findOneByOrFail({ id: c.id })))) as [
      Customer,
      Customer,
    ];
    expect(Buffer.compare(all.photo as Buffer, EVERY_BYTE)).toBe(0);
    expect((empty.photo as Buffer).length).toBe(0);
  });

  it('10 MB values (text of 1–4 byte characters, and bytes) are stored encrypted and come back exactly', async () => {
    const text = tenMegabyteText();
    const bytes = Buffer.alloc(TEN_MB);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >> 8)) & 0xff;
    const saved = await customers().save(
      customers().create({ handle: 'big', email: text, photo: bytes, ssn: null }),
    );
    const raw = (await db.rows('customer')).find((r) => r.id === saved.id) as Record<string, unknown>;
    expect(String(raw.email).length).toBeGreaterThan(Buffer.byteLength(text));
    const read = await customers().findOneByOrFail({ id: saved.id });
    expect(read.email.length).toBe(text.length);
    expect(read.email === text).toBe(true);
    expect(Buffer.compare(read.photo as Buffer, bytes)).toBe(0);
  });
});

describe.each(PRISMA_DIALECTS)('input round trips through Prisma on %s', (dialect) => {
  let db: PrismaDb;
  let prisma: EncryptedClient;
  let cache: CachingKeyring;
  beforeAll(async () => {
    const master = LocalKeyring.fromString(LocalKeyring.generateKeyText('inputs-prisma'));
    cache = new CachingKeyring(master);
    db = await openPrismaDb(dialect);
    prisma = encryptedClient(db.client(), cache, await BlindIndex.generateKey(master));
  });
  afterAll(async () => {
    cache?.close();
    await db?.drop();
  });

  it('Unicode, empty strings, nulls and every byte value (Bytes column) come back exactly; lookups by blind index work on them', async () => {
    for (const [i, text] of UNICODE.entries()) {
      await prisma.member.create({
        data: { email: text, ssn: i % 2 ? '' : null, photo: i === 0 ? Uint8Array.from(EVERY_BYTE) : null },
      });
    }
    const read = await prisma.member.findMany({ orderBy: { id: 'asc' } });
    expect(read.map((m) => m.email)).toEqual(UNICODE);
    expect(read.map((m) => m.ssn)).toEqual(UNICODE.map((_, i) => (i % 2 ? '' : null)));
    expect(Buffer.compare(Buffer.from(read[0]?.photo as Uint8Array), EVERY_BYTE)).toBe(0);
    const found = await prisma.member.findFirst({ where: { email: UNICODE[3] as string } });
    expect(found?.email).toBe(UNICODE[3]);
    const raw = await db.rows();
    expect(raw.every((r) => String(r.email).startsWith('fs2:'))).toBe(true);
    expect(
      Buffer.from(raw[0]?.photo as Uint8Array)
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('fs2:');
  });

  it('a 10 MB text value and a 10 MB binary value', async () => {
    const text = tenMegabyteText();
    const bytes = new Uint8Array(TEN_MB).map((_, i) => (i * 7) & 0xff);
    const created = await prisma.member.create({ data: { email: 'big@x.example', ssn: text, photo: bytes } });
    const read = await prisma.member.findUniqueOrThrow({ where: { id: created.id } });
    expect(read.ssn === text).toBe(true);
    expect(Buffer.compare(Buffer.from(read.photo as Uint8Array), Buffer.from(bytes))).toBe(0);
  });
});
