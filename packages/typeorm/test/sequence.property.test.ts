import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { User } from './support/entities.js';
import { type EncryptedDatabase, encryptedDatabase, rawRows } from './support/setup.js';
import { rowsBreakingInvariant } from './support/verify.js';

/** The plaintext model: what the table should read as, keyed by email. */
type Model = Map<string, { name: string; ssn: string | null }>;

// Emails contain "@" and SSNs start "ssn:"; neither character can occur in ciphertext
// (base64url), data keys or hex blind indexes, so finding one at rest means plaintext leaked.
const email = fc.integer({ min: 0, max: 7 }).map((n) => `user${n}@example.com`);
const ssn = fc.option(
  fc.string({ maxLength: 12 }).map((s) => `ssn:${s}`),
  { nil: null },
);
const name = fc.constantFrom('red', 'blue');

const op = fc.oneof(
  fc.record({ kind: fc.constant('save' as const), email, ssn, name }),
  fc.record({ kind: fc.constant('insert' as const), email, ssn, name }),
  fc.record({
    kind: fc.constant('saveChange' as const),
    email,
    ssn,
    newEmail: fc.option(email, { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('updateByName' as const), name, ssn }),
  fc.record({ kind: fc.constant('updateByEmail' as const), email, ssn, name }),
  fc.record({ kind: fc.constant('upsert' as const), email, ssn }),
  fc.record({ kind: fc.constant('delete' as const), email }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

async function apply(db: EncryptedDatabase, model: Model, step: Op): Promise<void> {
  const users = db.dataSource.getRepository(User);
  switch (step.kind) {
    case 'save':
    case 'insert': {
      if (model.has(step.email)) return; // unique email: the ORM would (rightly) fail
      const entity = users.create({ email: step.email, ssn: step.ssn, name: step.name });
      if (step.kind === 'save') await users.save(entity);
      else await users.insert(entity);
      model.set(step.email, { name: step.name, ssn: step.ssn });
      return;
    }
    case 'saveChange': {
      const loaded = await users.findOneBy({ email: step.email });
      if (!loaded) return;
      const current = model.get(step.email)!;
      loaded.ssn = step.ssn;
      const moveTo = step.newEmail !== undefined && !model.has(step.newEmail) ? step.newEmail : undefined;
      if (moveTo) loaded.email = moveTo;
      await users.save(loaded);
      model.delete(step.email);
      model.set(moveTo ?? step.email, { ...current, ssn: step.ssn });
      return;
    }
    case 'updateByName': {
      await users.update({ name: step.name }, { ssn: step.ssn });
      for (const row of model.values()) if (row.name === step.name) row.ssn = step.ssn;
      return;
    }
    case 'updateByEmail': {
      await users.update({ email: step.email }, { ssn: step.ssn, name: step.name });
      const row = model.get(step.email);
      if (row) Object.assign(row, { ssn: step.ssn, name: step.name });
      return;
    }
    case 'upsert': {
      await users.upsert({ email: step.email, ssn: step.ssn }, ['email']);
      model.set(step.email, { name: model.get(step.email)?.name ?? '', ssn: step.ssn });
      return;
    }
    case 'delete': {
      await users.delete({ email: step.email });
      model.delete(step.email);
      return;
    }
  }
}

describe.each(DIALECTS)('random operation sequences against a plaintext model on %s', (dialect) => {
  let db: EncryptedDatabase;
  beforeAll(async () => {
    db = await encryptedDatabase(dialect);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('reads always equal the model, nothing is plaintext at rest, and every row opens with its own key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (steps) => {
        await db.dataSource.query(`DELETE FROM ${db.t('user')}`);
        const model: Model = new Map();
        for (const step of steps) await apply(db, model, step);
        const read = await db.dataSource.getRepository(User).find();
        const actual = new Map(read.map((u) => [u.email, { name: u.name, ssn: u.ssn }]));
        expect(actual).toEqual(model);
        for (const [address] of model)
          expect((await db.dataSource.getRepository(User).findOneBy({ email: address }))?.email).toBe(
            address,
          );
        for (const row of await rawRows(db, 'user')) {
          for (const column of ['email', 'ssn', 'dataKey', 'emailIndex']) {
            expect(String(row[column] ?? '')).not.toMatch(/@|ssn:/);
          }
        }
        expect(await rowsBreakingInvariant(db, db.keyring, 'user', ['email', 'ssn'])).toEqual([]);
      }),
      { numRuns: dialect === 'sqlite' ? 150 : 40 },
    );
  });
});
