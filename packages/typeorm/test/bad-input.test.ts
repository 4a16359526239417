import {
  type DataKeyHint,
  type DataKeyMaterial,
  DecryptionError,
  type EncryptionContext,
  EncryptionError,
  type Keyring,
  KeyringError,
  type LocalKeyring,
} from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { Profile, User } from './support/entities.js';
import { type EncryptedDatabase, encryptedDatabase, rawRows, testKeyring } from './support/setup.js';
import { placeholder } from './support/verify.js';

/** A keyring that can be told to fail, as a KMS outage would. */
class FlakyKeyring implements Keyring {
  readonly name: string;
  failAfter = Number.POSITIVE_INFINITY;
  constructor(readonly inner: LocalKeyring) {
    this.name = inner.name;
  }
  async generateDataKey(context: EncryptionContext, _hint?: DataKeyHint): Promise<DataKeyMaterial> {
    if (this.failAfter-- <= 0) throw new KeyringError('unavailable', 'KMS unreachable (test)');
    return this.inner.generateDataKey(context);
  }
  decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    return this.inner.decryptDataKey(encryptedKey, context);
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** Secrets used below; no error message may contain any of them. */
const SECRETS = ['victim@example.com', '555-00-1234', 'not-a-number'];
function expectNoSecrets(error: Error, keyring?: Keyring): void {
  for (const secret of SECRETS) expect(error.message).not.toContain(secret);
  if (keyring) expect(error.message).not.toMatch(/fsk[12]:|fs[12]:/);
}

describe.each(DIALECTS)('bad input on %s', (dialect) => {
  let db: EncryptedDatabase;
  let keyring: FlakyKeyring;
  beforeAll(async () => {
    keyring = new FlakyKeyring(testKeyring());
    db = await encryptedDatabase(dialect, { keyring });
  });
  afterAll(async () => {
    await db?.drop();
  });
  const users = () => db.dataSource.getRepository(User);

  it('a value of the wrong type fails with EncryptionError naming entity and property; nothing is written', async () => {
    const before = (await rawRows(db, 'profile')).length;
    const error = await rejection(
      db.dataSource.getRepository(Profile).save({ age: 'not-a-number' as unknown as number }),
    );
    expect(error).toBeInstanceOf(EncryptionError);
    expect((error as EncryptionError).code).toBe('unsupported-type');
    expect(error.message).toContain('entity Profile, property age');
    expect((error as EncryptionError).location).toMatchObject({ table: 'profile', column: 'age' });
    expectNoSecrets(error);
    expect((await rawRows(db, 'profile')).length).toBe(before);
  });

  it('a keyring failure in the middle of a batch save writes nothing and gives the objects back in plaintext', async () => {
    const before = (await rawRows(db, 'user')).length;
    const batch = [0, 1, 2].map((i) =>
      users().create({ email: `batch${i}@example.com`, ssn: '555-00-1234' }),
    );
    keyring.failAfter = 2;
    const error = await rejection(users().save(batch));
    keyring.failAfter = Number.POSITIVE_INFINITY;
    expect(error).toBeInstanceOf(KeyringError);
    expect(error.message).toContain('entity User');
    expectNoSecrets(error, keyring);
    expect((await rawRows(db, 'user')).length).toBe(before);
    expect(batch.map((u) => [u.email, u.ssn, u.dataKey, u.emailIndex])).toEqual(
      [0, 1, 2].map((i) => [`batch${i}@example.com`, '555-00-1234', undefined, undefined]),
    );
    await users().save(batch); // a retry with the same objects works
    expect((await users().findOneByOrFail({ email: 'batch2@example.com' })).ssn).toBe('555-00-1234');
  });

  it('altered ciphertext fails with DecryptionError naming entity, property, column and row', async () => {
    const user = await users().save(users().create({ email: 'victim@example.com', ssn: '555-00-1234' }));
    const row = (await rawRows(db, 'user')).find((r) => r.id === user.id);
    const ssn = String(row?.ssn);
    const altered = ssn.slice(0, -2) + (ssn.endsWith('AA') ? 'BB' : 'AA');
    await db.dataSource.query(
      `UPDATE ${db.t('user')} SET ${db.q('ssn')} = ${placeholder(db, 1)} WHERE ${db.q('id')} = ${placeholder(db, 2)}`,
      [altered, user.id],
    );
    const error = await rejection(users().findOneBy({ id: user.id }));
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).code).toBe('authentication-failed');
    expect(error.message).toContain('entity User, property ssn');
    expect((error as DecryptionError).location).toMatchObject({
      table: 'user',
      column: 'ssn',
      rowId: user.id,
    });
    expectNoSecrets(error, keyring);
  });

  it("a value copied from another row fails with wrong-data-key, never another row's plaintext", async () => {
    const a = await users().save(users().create({ email: 'copy-a@example.com', ssn: 'a-secret' }));
    const b = await users().save(users().create({ email: 'copy-b@example.com', ssn: 'b-secret' }));
    const rows = await rawRows(db, 'user');
    const ssnOfA = rows.find((r) => r.id === a.id)?.ssn;
    await db.dataSource.query(
      `UPDATE ${db.t('user')} SET ${db.q('ssn')} = ${placeholder(db, 1)} WHERE ${db.q('id')} = ${placeholder(db, 2)}`,
      [ssnOfA, b.id],
    );
    const error = await rejection(users().findOneBy({ id: b.id }));
    expect((error as DecryptionError).code).toBe('wrong-data-key');
    expect(error.message).not.toContain('a-secret');
  });

  it('ciphertext with its data key gone fails with missing-data-key', async () => {
    const user = await users().save(users().create({ email: 'lost-key@example.com', ssn: 'x' }));
    await db.dataSource.query(
      `UPDATE ${db.t('user')} SET ${db.q('dataKey')} = NULL WHERE ${db.q('id')} = ${placeholder(db, 1)}`,
      [user.id],
    );
    const error = await rejection(users().findOneBy({ id: user.id }));
    expect((error as DecryptionError).code).toBe('missing-data-key');
    expect((error as DecryptionError).location).toMatchObject({ table: 'user', rowId: user.id });
  });

  it('a data key wrapped by an unknown master key fails with KeyringError naming the row', async () => {
    const user = await users().save(users().create({ email: 'foreign-key@example.com', ssn: 'y' }));
    const foreign = await testKeyring().generateDataKey({ 'fieldseal:table': 'user' });
    const { formatDataKey } = await import('@fieldseal/core');
    await db.dataSource.query(
      `UPDATE ${db.t('user')} SET ${db.q('dataKey')} = ${placeholder(db, 1)} WHERE ${db.q('id')} = ${placeholder(db, 2)}`,
      [formatDataKey({ keyId: 'someone-else', encryptedKey: foreign.encryptedKey }), user.id],
    );
    const error = await rejection(users().findOneBy({ id: user.id }));
    expect(error).toBeInstanceOf(KeyringError);
    expect((error as KeyringError).location).toMatchObject({ table: 'user', rowId: user.id });
    expect(error.message).toContain('entity User');
    expect(error.message).not.toContain(Buffer.from(foreign.plaintextKey).toString('base64'));
  });

  it('a plaintext that looks like ciphertext is refused rather than stored as is', async () => {
    const error = await rejection(users().save(users().create({ email: 'fs1:looks-encrypted' })));
    expect(error).toBeInstanceOf(EncryptionError);
    expect((error as EncryptionError).code).toBe('already-encrypted');
    expect(error.message).toContain('entity User, property email');
  });
});
