import 'reflect-metadata';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { DataKeyColumn, Encrypted, fieldEncryption } from '../src/index.js';
import { brokenAtRest } from './support/at-rest.js';
import { createDatabase, DIALECTS, type Dialect } from './support/databases.js';
import { testKeyring } from './support/setup.js';

/** A binary encrypted column in the database's own binary type. */
function vaultEntity(dialect: Dialect) {
  @Entity('vault')
  class Vault {
    @PrimaryGeneratedColumn() id!: number;
    @Encrypted({ type: 'bytes' }) @Column({ type: dialect === 'postgres' ? 'bytea' : 'blob' }) blob!: Buffer;
    @Encrypted() @Column({ type: 'text' }) note!: string;
    @DataKeyColumn() dataKey!: string | null;
  }
  return Vault;
}

describe.each(DIALECTS)("TypeORM's query-result cache on %s", (dialect) => {
  it('a cached result with an encrypted binary column decrypts like a live one', async () => {
    const Vault = vaultEntity(dialect);
    const keyring = testKeyring();
    const db = await createDatabase(dialect, [Vault], { cache: true });
    try {
      await fieldEncryption(db.dataSource, { keyring });
      const vaults = db.dataSource.getRepository(Vault);
      const saved = await vaults.save({ blob: Buffer.from('cached-bytes'), note: 'cached-note' });
      const live = await vaults.find({ where: { id: saved.id }, cache: 60_000 });
      const cached = await vaults.find({ where: { id: saved.id }, cache: 60_000 });
      expect(live[0]?.blob).toEqual(Buffer.from('cached-bytes'));
      expect(cached[0]?.blob).toEqual(Buffer.from('cached-bytes'));
      expect(cached[0]?.note).toBe('cached-note');
      expect(await brokenAtRest(db, keyring, ['cached-bytes', 'cached-note'])).toEqual([]);
    } finally {
      await db.drop();
    }
  });
});
