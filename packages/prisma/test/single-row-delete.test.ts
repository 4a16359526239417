import { isDecryptionError, isKeyringError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from './helpers/databases.js';
import { singleRowHarness } from './helpers/single-row.js';

// `delete` of one row returning encrypted values: on PostgreSQL and SQLite a read of the key and
// the returned values (decrypted before anything is deleted) and a guarded DELETE … RETURNING,
// without a transaction; on MySQL Prisma's own statements in a transaction with the decryption.
describe.each(DIALECTS)('delete of one row on %s', (dialect) => {
  const h = singleRowHarness(dialect);
  const { client, row, kinds, racing } = h;
  const oneStatement = dialect !== 'mysql';

  it('counts: 2 statements without a transaction (PostgreSQL, SQLite); 1 when nothing encrypted is returned', async () => {
    const prisma = client();
    const a = await prisma.user.create({ data: { email: 'd1@x.io', ssn: '1' } });
    const b = await prisma.user.create({ data: { email: 'd2@x.io', ssn: '2' } });
    expect(await kinds(() => prisma.user.delete({ where: { id: a.id } }))).toEqual(
      oneStatement ? ['SELECT', 'DELETE'] : ['SELECT', 'DELETE', 'COMMIT'],
    );
    expect(await kinds(() => prisma.user.delete({ where: { id: b.id }, select: { id: true } }))).toEqual(
      oneStatement ? ['DELETE'] : ['SELECT', 'DELETE', 'COMMIT'], // MySQL: Prisma's own, in its own transaction
    );
    expect(await row(a.id)).toBeUndefined();
    expect(await row(b.id)).toBeUndefined();
  });

  if (oneStatement)
    it('an encrypted value changed between read and delete: retried, returns the row as deleted', async () => {
      const { id } = await client().user.create({ data: { email: 'chg@x.io', ssn: 'before' } });
      const prisma = racing(() => client().user.update({ where: { id }, data: { ssn: 'after' } }));
      expect(await prisma.user.delete({ where: { id } })).toMatchObject({
        id,
        ssn: 'after',
        email: 'chg@x.io',
      });
      expect(await row(id)).toBeUndefined();
    });

  if (oneStatement)
    it("the row deleted by another connection between read and delete: Prisma's own P2025", async () => {
      const { id } = await client().user.create({ data: { email: 'twice@x.io', ssn: 'x' } });
      const prisma = racing(() =>
        h.db.execute(`DELETE FROM ${h.db.t('User')} WHERE ${h.db.q('id')} = ${id}`),
      );
      const error = await prisma.user.delete({ where: { id } }).catch((e: unknown) => e);
      expect((error as { code?: unknown }).code, String(error)).toBe('P2025');
    });

  it('KMS down right after the delete: no error for the committed delete (nothing decrypted after it)', async () => {
    const { id } = await client().user.create({ data: { email: 'late-del@x.io', ssn: 'one' } });
    const prisma = client().$extends({
      query: {
        user: {
          async $allOperations({ operation, args, query }) {
            const result = await query(args);
            if (operation === 'delete') h.kms.outage();
            return result;
          },
        },
      },
    });
    const outcome = await prisma.user
      .delete({ where: { id } })
      .catch((e: unknown) => e)
      .finally(() => h.kms.recover());
    if (oneStatement) {
      expect(outcome).toMatchObject({ id, email: 'late-del@x.io', ssn: 'one' });
      expect(await row(id)).toBeUndefined();
    } else {
      // MySQL decrypts inside the transaction: the failure rolls the delete back.
      expect(isKeyringError(outcome), String(outcome)).toBe(true);
      expect(await row(id)).toBeDefined();
    }
  });

  it('KMS down before: the delete fails and deletes nothing; a damaged returned value likewise', async () => {
    const { id } = await client().user.create({ data: { email: 'down@x.io', ssn: 'kept' } });
    h.kms.outage();
    const error = await client()
      .user.delete({ where: { id } })
      .catch((e: unknown) => e)
      .finally(() => h.kms.recover());
    expect(isKeyringError(error), String(error)).toBe(true);
    expect(await row(id)).toBeDefined();
    await h.db.execute(
      `UPDATE ${h.db.t('User')} SET ${h.db.q('ssn')} = 'fs2:damaged' WHERE ${h.db.q('id')} = ${id}`,
    );
    const damaged = await client()
      .user.delete({ where: { id } })
      .catch((e: unknown) => e);
    expect(isDecryptionError(damaged), String(damaged)).toBe(true);
    expect(await row(id)).toBeDefined();
  });
});
