import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { CachingKeyring } from '@fieldseal/cache';
import { DecryptionError, type EncryptionContext, type Keyring } from '@fieldseal/core';
import { Column, DataSource, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { DataKeyColumn, Encrypted, fieldEncryption } from '../src/index.js';
import { testKeyring } from './support/setup.js';

@Entity()
class Author {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @DataKeyColumn() dataKey!: string | null;
  @OneToMany(
    () => Article,
    (article) => article.author,
  )
  articles!: Article[];
}

@Entity()
class Article {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'text' }) body!: string;
  @DataKeyColumn() dataKey!: string | null;
  @ManyToOne(
    () => Author,
    (author) => author.articles,
  )
  author!: Author;
}

/** Counts unwraps reaching the master keyring. */
class CountingKeyring implements Keyring {
  readonly name = 'counting';
  unwraps = 0;
  constructor(readonly inner: Keyring) {}
  generateDataKey(context: EncryptionContext) {
    return this.inner.generateDataKey(context);
  }
  decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext) {
    this.unwraps++;
    return this.inner.decryptDataKey(encryptedKey, context);
  }
}

async function open(keyring: Keyring, database: string) {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database,
    entities: [Author, Article],
    synchronize: true,
  });
  await dataSource.initialize();
  await fieldEncryption(dataSource, { keyring });
  return dataSource;
}

const master = testKeyring();
const file = `/tmp/fieldseal-batch-${process.pid}-${Date.now()}.db`;
const writer = await open(new CachingKeyring(master, { maxUses: 20 }), file);
afterAll(async () => {
  await writer.destroy();
  rmSync(file, { force: true });
});

describe('find() decrypts its entities in one batch', () => {
  it('unwraps each distinct data key once per query, across the entities and their relations', async () => {
    const authors = await writer
      .getRepository(Author)
      .save(Array.from({ length: 30 }, (_, i) => ({ email: `author${i}@example.com` })));
    await writer.getRepository(Article).save(
      authors.flatMap((author, i) => [
        { body: `first by ${i}`, author },
        { body: `second by ${i}`, author },
      ]),
    );
    const keysUsed = async (entity: string) =>
      (await writer.query(`SELECT COUNT(DISTINCT substr(dataKey, 29)) AS n FROM ${entity}`))[0].n as number;
    const distinct = (await keysUsed('author')) + (await keysUsed('article'));
    // 30 authors and 60 articles at 20 uses per key: far fewer keys than rows.
    expect(distinct).toBeLessThan(10);

    const counting = new CountingKeyring(master);
    const reader = await open(counting, file);
    try {
      const found = await reader
        .getRepository(Author)
        .find({ relations: { articles: true }, order: { id: 'ASC' } });
      expect(found).toHaveLength(30);
      expect(found[7]?.email).toBe('author7@example.com');
      expect(found[7]?.articles.map((a) => a.body).sort()).toEqual(['first by 7', 'second by 7']);
      expect(counting.unwraps).toBe(distinct);
    } finally {
      await reader.destroy();
    }
  });

  it('one undecryptable row fails the whole find with a typed error naming entity and row', async () => {
    const [victim] = await writer.getRepository(Author).find({ order: { id: 'ASC' }, take: 1 });
    const [other] = await writer.getRepository(Author).find({ order: { id: 'DESC' }, take: 1 });
    // Give the first author the last one's data key (written 29 rows later: another key).
    expect(other?.dataKey).not.toBe(victim?.dataKey);
    await writer.query('UPDATE author SET dataKey = ? WHERE id = ?', [other?.dataKey, victim?.id]);
    const error = await writer
      .getRepository(Author)
      .find()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).message).toContain('Author');
    expect((error as DecryptionError).location?.rowId).toBe(victim?.id);
  });
});
