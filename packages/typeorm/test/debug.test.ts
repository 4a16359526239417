import { RowEnvelope } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { encryptedDatabase, rawRows } from './support/setup.js';
import { User } from './support/entities.js';

describe('debug', () => {
  it('bulk update', async () => {
    const db = await encryptedDatabase('sqlite', { readMode: 'tolerant' });
    const users = db.dataSource.getRepository(User);
    const saved = await users.save(Array.from({ length: 4 }, (_, i) => users.create({ name: `g${i % 2}`, email: `inv${i}@example.com`, ssn: `ssn-${i}` })));
    db.dataSource.setOptions?.({ logging: true } as never);
    await users.update({ name: 'g1' }, { ssn: 'bulk-1' });
    const envelope = new RowEnvelope({ keyring: db.keyring, readMode: 'strict' });
    for (const row of await rawRows(db, 'user')) {
      try { await envelope.decryptRow({ table: 'user', values: { email: row.email, ssn: row.ssn }, dataKey: row.dataKey }); } catch (e) { console.log(row.id, String(e), String(row.ssn).slice(0, 30)); }
    }
    expect(saved.length).toBe(4);
  });
});
