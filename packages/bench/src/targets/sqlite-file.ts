import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * A throwaway SQLite database file in the temp directory; `remove()` deletes it and its journals.
 * In WAL mode (a setting stored in the file, so every connection gets it), as most applications
 * run SQLite: with the default rollback journal every insert waits for its own fsync and the disk,
 * not encryption or KMS, sets the pace.
 */
export class SqliteFile {
  readonly path = join(tmpdir(), `fieldseal-bench-${randomBytes(6).toString('hex')}.db`);

  constructor() {
    this.exec('PRAGMA journal_mode = WAL');
  }

  /** Runs `sql` (several statements allowed) on the file. */
  exec(sql: string): void {
    const db = new Database(this.path);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  }

  /** Runs one query and returns its rows. */
  all<T>(sql: string, ...params: unknown[]): T[] {
    const db = new Database(this.path, { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }

  remove(): void {
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${this.path}${suffix}`, { force: true });
  }
}
