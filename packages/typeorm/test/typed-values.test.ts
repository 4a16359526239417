import { isEncryptedValue } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { Profile } from './support/entities.js';
import { type EncryptedDatabase, encryptedDatabase, rawRows } from './support/setup.js';

describe.each(DIALECTS)('typed encrypted properties on %s', (dialect) => {
  let db: EncryptedDatabase;
  beforeAll(async () => {
    db = await encryptedDatabase(dialect);
  });
  afterAll(async () => {
    await db?.drop();
  });
  const profiles = () => db.dataSource.getRepository(Profile);

  const cases: Array<Partial<Profile>> = [
    {
      age: 42,
      verified: false,
      birthday: new Date('2000-02-29T12:34:56.789Z'),
      prefs: { theme: 'light', tags: [] },
      avatar: Buffer.from('png-bytes'),
    },
    {
      age: -0,
      verified: true,
      birthday: null,
      prefs: { theme: 'ünïcødé ✓', tags: ['x', 'y'] },
      avatar: Buffer.alloc(0),
    },
    { age: 1.5e-7, verified: null, birthday: new Date(0), prefs: null, avatar: null },
    { age: Number.NaN },
  ];

  it('number, boolean, Date, JSON and bytes come back with their type; at rest they are ciphertext', async () => {
    for (const input of cases) {
      const saved = await profiles().save(profiles().create(input));
      const loaded = await profiles().findOneByOrFail({ id: saved.id });
      for (const [property, value] of Object.entries(input))
        expect(loaded[property as keyof Profile]).toEqual(value);
      if (input.age !== undefined) expect(Object.is(loaded.age, input.age)).toBe(true);
      const row = (await rawRows(db, 'profile')).find((r) => r.id === saved.id) as Record<string, unknown>;
      for (const property of Object.keys(input)) {
        const stored = row[property];
        expect(stored === null || isEncryptedValue(stored)).toBe(true);
        expect(stored === null).toBe(input[property as keyof Profile] === null);
      }
    }
  });

  it('saving an equal but not identical Date or JSON object rewrites nothing', async () => {
    const saved = await profiles().save(
      profiles().create({ birthday: new Date('1990-01-01T00:00:00Z'), prefs: { theme: 'a', tags: ['b'] } }),
    );
    const before = (await rawRows(db, 'profile')).find((r) => r.id === saved.id);
    const loaded = await profiles().findOneByOrFail({ id: saved.id });
    loaded.birthday = new Date('1990-01-01T00:00:00Z');
    loaded.prefs = { theme: 'a', tags: ['b'] };
    await profiles().save(loaded);
    expect(loaded.birthday).toEqual(new Date('1990-01-01T00:00:00Z'));
    expect((await rawRows(db, 'profile')).find((r) => r.id === saved.id)).toEqual(before);
  });

  it('update(criteria, partial) of a typed value encrypts it and keeps the others readable', async () => {
    const saved = await profiles().save(profiles().create({ age: 1, verified: true }));
    await profiles().update(saved.id, { age: 2, birthday: new Date('2020-01-01T00:00:00Z') });
    expect(await profiles().findOneByOrFail({ id: saved.id })).toMatchObject({
      age: 2,
      verified: true,
      birthday: new Date('2020-01-01T00:00:00Z'),
    });
  });
});
