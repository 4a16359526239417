/**
 * Secrets hygiene, end to end: an app-like session through TypeORM (AWS KMS keyring over the real
 * SDK and kms-local, behind a CachingKeyring, SQL logging on) and through Prisma (LocalKeyring),
 * provoking every kind of failure. Then every error (message, stack, cause chain, inspect), every
 * console line, and util.inspect / JSON.stringify of each keyring, cache, envelope, blind index,
 * client and data source is searched for the known secrets in raw, hex, base64 and base64url
 * form: plaintext values, master keys, KMS key material, data keys, the blind-index key.
 * Finally: every plaintext data key the cache held is zero-filled once evicted.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { CachingKeyring } from '@fieldseal/cache';
import {
  BLIND_INDEX_CONTEXT,
  BlindIndex,
  type DataKeyHint,
  type DataKeyMaterial,
  type EncryptionContext,
  FieldsealError,
  type Keyring,
  LocalKeyring,
  parseDataKey,
  RowEnvelope,
} from '@fieldseal/core';
import { Like } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Customer } from './support/entities.js';
import { type KmsRig, startKms } from './support/kms.js';
import { encryptedClient, openPrismaDb, type PrismaDb } from './support/prisma-db.js';
import { errorText, leaks } from './support/secrets.js';
import { openTypeormDb, type TypeormDb } from './support/typeorm-db.js';

/** Records (references to) every plaintext data key a keyring hands out, and a copy for searching. */
class SpyKeyring implements Keyring {
  readonly name: string;
  readonly handedOut: Uint8Array[] = [];
  readonly copies: Uint8Array[] = [];
  constructor(readonly inner: Keyring) {
    this.name = inner.name;
  }
  async generateDataKey(context: EncryptionContext, hint?: DataKeyHint): Promise<DataKeyMaterial> {
    const material = await this.inner.generateDataKey(context, hint);
    this.#keep(material.plaintextKey);
    return material;
  }
  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const key = await this.inner.decryptDataKey(encryptedKey, context);
    this.#keep(key);
    return key;
  }
  keyIdOf(encryptedKey: Uint8Array): string | undefined {
    return this.inner.keyIdOf?.(encryptedKey);
  }
  #keep(key: Uint8Array): void {
    this.handedOut.push(key);
    this.copies.push(Uint8Array.from(key));
  }
}

const PLAINTEXTS = [
  'hygiene-alice@secret.example',
  'SSN-HYGIENE-078051120',
  'hygiene-bob@secret.example',
  'prisma-carol@secret.example',
  'PRISMA-SSN-SECRET-424242',
];

/** Strings of 32 base64-encoded bytes anywhere in a JSON document (kms-local's key material). */
function base64Keys(value: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (typeof value === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(value)) out.push(Buffer.from(value, 'base64'));
  else if (value && typeof value === 'object') for (const v of Object.values(value)) base64Keys(v, out);
  return out;
}

describe('secrets hygiene across a session through both adapters', () => {
  const lines: string[] = [];
  const errors: unknown[] = [];
  const originals = { ...console };
  let kms: KmsRig;
  let awsSpy: SpyKeyring;
  let localSpy: SpyKeyring;
  let awsCache: CachingKeyring;
  let localCache: CachingKeyring;
  let typeorm: TypeormDb;
  let prismaDb: PrismaDb;
  const localText = LocalKeyring.generateKeyText('hygiene');
  const local = LocalKeyring.fromString(localText);
  let blindIndexKey: string;
  let prisma: ReturnType<typeof encryptedClient>;

  async function expectFailure(promise: Promise<unknown>): Promise<void> {
    try {
      await promise;
    } catch (error) {
      errors.push(error);
      return;
    }
    throw new Error('expected a failure');
  }

  beforeAll(async () => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      console[method] = (...args: unknown[]) => {
        lines.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 6 }))).join(' '));
      };
    }
    kms = await startKms({ maxAttempts: 1 });
    awsSpy = new SpyKeyring(kms.keyring);
    awsCache = new CachingKeyring(awsSpy, { maxUses: 2 });
    typeorm = await openTypeormDb('sqlite', awsCache, {
      extra: { logging: 'all', logger: 'simple-console' },
    });
    localSpy = new SpyKeyring(local);
    localCache = new CachingKeyring(localSpy, { maxUses: 2 });
    blindIndexKey = await BlindIndex.generateKey(local);
    prismaDb = await openPrismaDb('sqlite');
    prisma = encryptedClient(prismaDb.client(), localCache, blindIndexKey);

    // TypeORM session: writes, reads, then failures of every kind.
    const customers = typeorm.dataSource.getRepository(Customer);
    const [alice] = await customers.save([
      customers.create({ handle: 'alice', email: PLAINTEXTS[0] as string, ssn: PLAINTEXTS[1] as string }),
      customers.create({ handle: 'bob', email: PLAINTEXTS[2] as string, ssn: null }),
      customers.create({ handle: 'eve', email: 'eve@x.example', ssn: null }),
    ]);
    await customers.findBy({});
    await expectFailure(customers.findBy({ email: Like(`%${PLAINTEXTS[0]}%`) })); // unsupported-filter
    await expectFailure(
      customers.save(customers.create({ handle: 'bad', email: 12345 as unknown as string })),
    ); // unsupported-type
    await expectFailure(
      customers.insert({ handle: 'alice', email: PLAINTEXTS[0] as string, ssn: PLAINTEXTS[1] as string }),
    ); // unique violation
    // maxUses 2: alice and bob share a data key, eve has another.
    const [aliceRow, , eveRow] = await typeorm.rows('customer');
    expect(eveRow?.dataKey).not.toBe(aliceRow?.dataKey);
    await typeorm.dataSource.query(`UPDATE "customer" SET "dataKey" = ? WHERE "id" = ?`, [
      eveRow?.dataKey,
      alice?.id,
    ]);
    awsCache.clear();
    await expectFailure(customers.findOneByOrFail({ id: alice?.id as number })); // wrong-data-key
    await typeorm.dataSource.query(`UPDATE "customer" SET "dataKey" = ? WHERE "id" = ?`, [
      aliceRow?.dataKey,
      alice?.id,
    ]);
    await kms.stop();
    awsCache.clear();
    await expectFailure(customers.save(customers.create({ handle: 'down', email: PLAINTEXTS[0] as string }))); // KMS unreachable
    await expectFailure(customers.findOneByOrFail({ id: alice?.id as number }));
    await kms.start();
    await expectFailure(
      new RowEnvelope({ keyring: kms.keyring }).decryptRow({
        table: 'note',
        values: { body: aliceRow?.email },
        dataKey: aliceRow?.dataKey,
      }),
    ); // invalid-ciphertext from KMS
    await customers.findBy({});

    // Prisma session.
    const carol = await prisma.member.create({
      data: { email: PLAINTEXTS[3] as string, ssn: PLAINTEXTS[4] as string },
    });
    await prisma.member.findFirst({ where: { email: PLAINTEXTS[3] as string } });
    await expectFailure(prisma.member.findMany({ where: { ssn: { contains: 'SECRET' } } }));
    await expectFailure(prisma.member.create({ data: { email: PLAINTEXTS[3] as string } })); // blind index unique
    await prismaDb.execute(`UPDATE ${prismaDb.table} SET "ssn" = "email" WHERE "id" = ?`, carol.id);
    localCache.clear();
    await expectFailure(prisma.member.findUniqueOrThrow({ where: { id: carol.id } }));
    await expectFailure(Promise.resolve().then(() => new CachingKeyring(local, { maxAge: Number.NaN })));
    await expectFailure(Promise.resolve().then(() => LocalKeyring.fromString(`${localText}!`)));
  });

  afterAll(async () => {
    Object.assign(console, originals);
    awsCache?.close();
    localCache?.close();
    await typeorm?.drop();
    await prismaDb?.drop();
    await kms?.close();
  });

  /** Everything secret: plaintexts, master keys, KMS key material, every data key, the blind-index key. */
  async function allSecrets(): Promise<(string | Uint8Array)[]> {
    const kmsState = JSON.parse(readFileSync(kmsDataFile(), 'utf8')) as unknown;
    const localKey = Buffer.from(localText.slice(localText.indexOf(':') + 1), 'base64');
    const indexKey = await local.decryptDataKey(
      parseDataKey(blindIndexKey).encryptedKey,
      BLIND_INDEX_CONTEXT,
    );
    return [...PLAINTEXTS, localKey, ...base64Keys(kmsState), ...awsSpy.copies, ...localSpy.copies, indexKey];
  }

  const kmsDataFile = () => kms.dataFile;

  it('the search finds planted secrets (self-check)', async () => {
    const secrets = await allSecrets();
    expect(secrets.length).toBeGreaterThanOrEqual(PLAINTEXTS.length + 3);
    const key = awsSpy.copies[0] as Uint8Array;
    expect(leaks(`x ${Buffer.from(key).toString('base64url')} y`, secrets)).not.toEqual([]);
    expect(leaks(`x ${Buffer.from(key).toString('hex')} y`, secrets)).not.toEqual([]);
    expect(leaks(errorText(new Error('o', { cause: new Error(PLAINTEXTS[1]) })), secrets)).not.toEqual([]);
  });

  it('every failure was a typed error, and none shows a secret in message, stack, cause chain or inspect', async () => {
    const secrets = await allSecrets();
    expect(errors.length).toBe(12);
    for (const error of errors) {
      if (!(error instanceof FieldsealError)) {
        // Database errors come from the driver; they carry ciphertext parameters at most.
        expect((error as Error).name, String(error)).toMatch(
          /QueryFailedError|PrismaClientKnownRequestError/,
        );
      }
      expect(leaks(errorText(error), secrets), `${(error as Error).name}`).toEqual([]);
      expect(
        leaks(inspect(error, { depth: 8, showHidden: true }), secrets),
        `${(error as Error).name} inspect`,
      ).toEqual([]);
    }
    expect(errors.filter((e) => e instanceof FieldsealError).length).toBeGreaterThanOrEqual(9);
  });

  it('no console line (TypeORM SQL log included) shows a secret', async () => {
    const secrets = await allSecrets();
    expect(lines.length).toBeGreaterThan(20); // the SQL log really was captured
    expect(lines.some((line) => /INSERT INTO "customer"/.test(line))).toBe(true);
    for (const line of lines) expect(leaks(line, secrets), line.slice(0, 120)).toEqual([]);
    originals.info(
      `[reliability figures] secrets ${JSON.stringify({ secrets: secrets.length, errors: errors.length, consoleLines: lines.length })}`,
    );
  });

  it('inspect and JSON of keyrings, cache, envelope, blind index, Prisma client and TypeORM DataSource show no secret', async () => {
    const secrets = await allSecrets();
    const index = await BlindIndex.open({ keyring: local, wrappedKey: blindIndexKey });
    const objects: Record<string, unknown> = {
      LocalKeyring: local,
      CachingKeyring: awsCache,
      CachingKeyringLocal: localCache,
      AwsKmsKeyring: kms.keyring,
      RowEnvelope: typeorm.fe.envelope,
      BlindIndex: index,
      FieldEncryption: typeorm.fe,
      PrismaClient: prisma,
      DataSource: typeorm.dataSource,
    };
    for (const [name, object] of Object.entries(objects)) {
      const printed = inspect(object, { depth: 6, showHidden: true, getters: false });
      expect(leaks(printed, secrets), `${name} inspect`).toEqual([]);
      let json = '';
      try {
        json = JSON.stringify(object) ?? '';
      } catch {
        json = ''; // circular structures (DataSource) cannot be serialised at all: nothing leaks
      }
      expect(leaks(json, secrets), `${name} JSON`).toEqual([]);
    }
    expect(inspect(awsCache)).toContain('CachingKeyring');
    expect(inspect(kms.keyring)).toContain('AwsKmsKeyring');
  });

  it('every plaintext data key the caches held is zero-filled once evicted', async () => {
    const held = [...awsSpy.handedOut, ...localSpy.handedOut];
    expect(held.length).toBeGreaterThanOrEqual(4);
    awsCache.close();
    localCache.close();
    await new Promise((resolve) => setImmediate(resolve));
    const notWiped = held.filter((key) => key.some((b) => b !== 0));
    expect(notWiped.length).toBe(0);
  });
});
