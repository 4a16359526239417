import type { EntitySubscriberInterface, InsertEvent, UpdateEvent } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADVERSARIAL_ENTITIES, Customer, Member, Noted } from './support/adversarial-entities.js';
import { brokenAtRest, SqlCapture } from './support/at-rest.js';
import { DIALECTS } from './support/databases.js';
import { ENTITIES, Profile, User } from './support/entities.js';
import { type EncryptedDatabase, encryptedDatabase } from './support/setup.js';

// Issue 12, items 1–8: write paths that stored plaintext. After each test, the raw rows hold
// none of the test's plaintexts and every value opens with its own row's key; no SQL sent
// (text or parameters) carried a plaintext either.
describe.each(DIALECTS)('adversarial write paths on %s', (dialect) => {
  let db: EncryptedDatabase;
  let capture: SqlCapture;
  let plaintexts: string[] = [];
  const secret = (label: string) => {
    const text = `secret-${label}-${dialect}`;
    plaintexts.push(text);
    return text;
  };
  beforeAll(async () => {
    db = await encryptedDatabase(dialect, { entities: [...ENTITIES, ...ADVERSARIAL_ENTITIES] });
    capture = new SqlCapture();
    db.dataSource.logger = capture;
  });
  afterAll(async () => {
    await db?.drop();
  });
  afterEach(async () => {
    expect(await brokenAtRest(db, db.keyring, plaintexts)).toEqual([]);
    expect(capture.leaking(plaintexts)).toEqual([]);
    plaintexts = [];
    capture.sent.length = 0;
  });
  const repo = <T extends object>(target: new () => T) => db.dataSource.getRepository(target);

  it('1. async @BeforeInsert/@BeforeUpdate listeners that set an encrypted value after an await', async () => {
    const noted = await repo(Noted).save(repo(Noted).create({ label: 'n1', secret: secret('n1') }));
    plaintexts.push('inserted-n1');
    expect((await repo(Noted).findOneByOrFail({ id: noted.id })).stamp).toBe('inserted-n1');
    noted.label = 'n1b';
    await repo(Noted).save(noted);
    plaintexts.push('updated-n1b');
    expect((await repo(Noted).findOneByOrFail({ id: noted.id })).stamp).toBe('updated-n1b');
  });

  it('1+2. subscribers added after fieldEncryption(), sync and async, that set encrypted values', async () => {
    const late: EntitySubscriberInterface<User> = {
      listenTo: () => User,
      beforeInsert(event: InsertEvent<User>) {
        event.entity.ssn = `late-${event.entity.name}`;
      },
      async beforeUpdate(event: UpdateEvent<User>) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (event.entity) event.entity.ssn = `late-upd-${event.entity.name}`;
      },
    };
    db.dataSource.subscribers.push(late as EntitySubscriberInterface);
    try {
      const user = await repo(User).save(repo(User).create({ name: 'sub1', email: secret('sub1') }));
      plaintexts.push('late-sub1');
      user.name = 'sub2';
      await repo(User).save(user);
      plaintexts.push('late-upd-sub2');
      expect((await repo(User).findOneByOrFail({ id: user.id })).ssn).toBe('late-upd-sub2');
      await repo(User).insert({ name: 'sub3', email: secret('sub3') });
      plaintexts.push('late-sub3');
    } finally {
      db.dataSource.subscribers.splice(
        db.dataSource.subscribers.indexOf(late as EntitySubscriberInterface),
        1,
      );
    }
  });

  it('3. destroy() then initialize() keeps encryption, lookups and decryption on', async () => {
    const before = await repo(User).save(repo(User).create({ email: secret('reinit-a') }));
    await db.dataSource.destroy();
    await db.dataSource.initialize();
    db.dataSource.logger = capture;
    const after = await repo(User).save(
      repo(User).create({ email: secret('reinit-b'), ssn: secret('reinit-ssn') }),
    );
    // An in-memory SQLite database does not outlive destroy(); the others keep the first row.
    if (dialect !== 'sqlite')
      expect((await repo(User).findOneByOrFail({ email: before.email })).id).toBe(before.id);
    expect((await repo(User).findOneByOrFail({ id: after.id })).ssn).toBe(after.ssn);
    await repo(User).update({ email: after.email }, { ssn: secret('reinit-ssn2') });
    expect((await repo(User).findOneByOrFail({ id: after.id })).ssn).toBe(`secret-reinit-ssn2-${dialect}`);
  });

  it('4. @Encrypted inside an embedded entity is encrypted on every write path', async () => {
    const customer = await repo(Customer).save(
      repo(Customer).create({ name: secret('cust'), address: { street: secret('street1'), city: 'Paris' } }),
    );
    customer.address.street = secret('street2');
    await repo(Customer).save(customer);
    await repo(Customer).update(customer.id, { address: { street: secret('street3') } });
    await repo(Customer).insert({
      name: secret('cust2'),
      address: { street: secret('street4'), city: 'Rome' },
    });
    const loaded = await repo(Customer).findOneByOrFail({ id: customer.id });
    expect(loaded.address).toEqual({ street: `secret-street3-${dialect}`, city: 'Paris' });
    await expect(repo(Customer).findOneBy({ address: { street: 'x' } })).rejects.toMatchObject({
      code: 'unsupported-filter',
    });
  });

  it('5. NaN and -0 round-trip exactly through insert, update() and save()', async () => {
    const member = await repo(Member).save(repo(Member).create({ email: secret('nan'), score: Number.NaN }));
    const loaded = await repo(Member).findOneByOrFail({ id: member.id });
    expect(loaded.score).toBeNaN();
    loaded.email = secret('nan2'); // a plain change beside the NaN
    await repo(Member).save(loaded);
    expect((await repo(Member).findOneByOrFail({ id: member.id })).score).toBeNaN();
    await repo(Member).update(member.id, { score: -0 });
    expect(Object.is((await repo(Member).findOneByOrFail({ id: member.id })).score, -0)).toBe(true);
    const zero = await repo(Member).findOneByOrFail({ id: member.id });
    zero.score = 0;
    await repo(Member).save(zero); // 0 and -0 are different values: written
    expect(Object.is((await repo(Member).findOneByOrFail({ id: member.id })).score, 0)).toBe(true);
  });

  it('6. save({ listeners: false }) and QueryBuilder callListeners(false) encrypt (text, JSON, dates, numbers)', async () => {
    const user = repo(User).create({ email: secret('nolisten'), ssn: secret('nolisten-ssn') });
    await repo(User).save(user, { listeners: false });
    user.ssn = secret('nolisten-ssn2');
    await repo(User).save(user, { listeners: false });
    const prefs = { theme: secret('theme'), tags: [] };
    await repo(Profile)
      .createQueryBuilder()
      .insert()
      .values({ age: 424242, birthday: new Date('1977-07-07T00:00:00Z'), prefs })
      .callListeners(false)
      .execute();
    await repo(User)
      .createQueryBuilder()
      .update()
      .set({ ssn: secret('nolisten-ssn3') })
      .where('id = :id', { id: user.id })
      .callListeners(false)
      .execute();
    expect((await repo(User).findOneByOrFail({ id: user.id })).ssn).toBe(`secret-nolisten-ssn3-${dialect}`);
    plaintexts.push('424242', '1977-07-07');
  });

  it("7. insert().into(Entity, ['email']) writes the data key and blind index with the value", async () => {
    await repo(User)
      .createQueryBuilder()
      .insert()
      .into(User, ['email'])
      .values({ email: secret('cols') })
      .execute();
    const found = await repo(User).findOneByOrFail({ email: `secret-cols-${dialect}` });
    expect(found.dataKey).toMatch(/^fsk2:/);
  });

  it('8. save() of a loaded entity after a delete and re-insert of its id writes under the new row key', async () => {
    const user = await repo(User).save(repo(User).create({ email: secret('race'), ssn: secret('race-ssn') }));
    const loaded = await repo(User).findOneByOrFail({ id: user.id });
    // Between the load and the write, the row is deleted and re-inserted with a new key.
    const other = await repo(User).save(
      repo(User).create({ email: secret('race-new'), ssn: secret('race-ssn-new') }),
    );
    await repo(User).delete(user.id);
    await db.dataSource.query(
      `UPDATE ${db.t('user')} SET ${db.q('id')} = ${user.id} WHERE ${db.q('id')} = ${other.id}`,
    );
    loaded.ssn = secret('race-ssn-after');
    loaded.email = secret('race-email-after');
    await repo(User).save(loaded);
    expect(await repo(User).findOneByOrFail({ id: user.id })).toMatchObject({
      email: `secret-race-email-after-${dialect}`,
      ssn: `secret-race-ssn-after-${dialect}`,
    });
  });

  it('8b. the same swap after TypeORM reloaded the row (inside save): the guarded write misses, re-reads, writes under the new key', async () => {
    const user = await repo(User).save(
      repo(User).create({ email: secret('race2'), ssn: secret('race2-ssn') }),
    );
    const other = await repo(User).save(
      repo(User).create({ email: secret('race2-new'), ssn: secret('race2-ssn-new') }),
    );
    const swap: EntitySubscriberInterface<User> = {
      listenTo: () => User,
      async beforeUpdate(event: UpdateEvent<User>) {
        await event.queryRunner.query(`DELETE FROM ${db.t('user')} WHERE ${db.q('id')} = ${user.id}`);
        await event.queryRunner.query(
          `UPDATE ${db.t('user')} SET ${db.q('id')} = ${user.id} WHERE ${db.q('id')} = ${other.id}`,
        );
      },
    };
    const loaded = await repo(User).findOneByOrFail({ id: user.id });
    loaded.ssn = secret('race2-after');
    db.dataSource.subscribers.push(swap as EntitySubscriberInterface);
    try {
      await repo(User).save(loaded);
    } finally {
      db.dataSource.subscribers.splice(
        db.dataSource.subscribers.indexOf(swap as EntitySubscriberInterface),
        1,
      );
    }
    const row = await repo(User).findOneByOrFail({ id: user.id });
    expect(row).toMatchObject({ email: `secret-race2-new-${dialect}`, ssn: `secret-race2-after-${dialect}` });
    // Two guarded UPDATEs: the first (old key identity) hit nothing.
    expect(capture.sent.filter((q) => /^UPDATE .*substr\(/i.test(q)).length).toBe(2);
  });
});
