import { ConfigError, type SqlDialect, type SqlExecutor } from '@fieldseal/core';

/** Default name of the key-store table. */
export const BRANCH_KEY_TABLE = 'fieldseal_branch_keys';

/** Lifecycle of a branch key: new data keys use the newest `active` one; `shredded` is destroyed. */
export type BranchKeyStatus = 'active' | 'retired' | 'shredded';

/** One key-store row as stored. */
export interface BranchKeyRow {
  /** Tenant id, or `''` for the global branch key. */
  readonly scope: string;
  readonly version: number;
  readonly status: BranchKeyStatus;
  /** The master key (KMS key id or ARN, local key id) that wrapped the branch key. */
  readonly keyId: string;
  /** base64 of the wrapped branch key; `null` once shredded. */
  readonly wrappedKey: string | null;
  /** ISO-8601 creation time. */
  readonly createdAt: string;
  /** Hex HMAC of the row (see `rowMac`); `null` once shredded. */
  readonly mac: string | null;
}

/** The `CREATE TABLE IF NOT EXISTS` statement of the key store, per dialect. */
export function branchKeyDdl(dialect: SqlDialect, table = BRANCH_KEY_TABLE): string {
  const t = quote(dialect, table);
  // MariaDB indexes at most 3072 bytes: 191 utf8mb4 characters of scope stay within a key.
  const scope = dialect === 'mysql' ? 'VARCHAR(191)' : 'TEXT';
  const short = dialect === 'mysql' ? 'VARCHAR(64)' : 'TEXT';
  return `CREATE TABLE IF NOT EXISTS ${t} (scope ${scope} NOT NULL, version INTEGER NOT NULL, status ${short} NOT NULL, key_id TEXT NOT NULL, wrapped_key TEXT, created_at ${short} NOT NULL, mac ${short}, PRIMARY KEY (scope, version))`;
}

/** Quotes an identifier for `dialect`. Only plain identifiers are accepted (checked at construction). */
export function quote(dialect: SqlDialect, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}

/** Throws `ConfigError` unless `name` is a plain identifier. */
export function assertTableName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name))
    throw new ConfigError('table', 'must be a plain SQL identifier (letters, digits, underscore)');
}

/** Rewrites `?` placeholders to `$1, $2…` on PostgreSQL. */
export function placeholders(dialect: SqlDialect, sql: string): string {
  if (dialect !== 'postgres') return sql;
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const COLUMNS = 'scope, version, status, key_id, wrapped_key, created_at, mac';

/** Typed SQL on the key-store table. */
export class BranchKeyTable {
  readonly #q: string;
  constructor(
    readonly executor: SqlExecutor,
    readonly name = BRANCH_KEY_TABLE,
  ) {
    assertTableName(name);
    this.#q = quote(executor.dialect, name);
  }

  #sql(text: string): string {
    return placeholders(this.executor.dialect, text);
  }

  /** Creates the table when it is missing. */
  async ensure(): Promise<void> {
    await this.executor.execute(branchKeyDdl(this.executor.dialect, this.name));
  }

  /** Every row of `scope` (or of every scope), newest version first. */
  async rows(scope?: string, executor: SqlExecutor = this.executor): Promise<BranchKeyRow[]> {
    const where = scope === undefined ? '' : ' WHERE scope = ?';
    const rows = await executor.query(
      this.#sql(`SELECT ${COLUMNS} FROM ${this.#q}${where} ORDER BY scope, version DESC`),
      scope === undefined ? [] : [scope],
    );
    return rows.map(toRow);
  }

  /** One row, or `undefined`. */
  async row(scope: string, version: number): Promise<BranchKeyRow | undefined> {
    const rows = await this.executor.query(
      this.#sql(`SELECT ${COLUMNS} FROM ${this.#q} WHERE scope = ? AND version = ?`),
      [scope, version],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Inserts a row; rejects (primary key) when the version exists. */
  async insert(row: BranchKeyRow, executor: SqlExecutor = this.executor): Promise<void> {
    await executor.execute(this.#sql(`INSERT INTO ${this.#q} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`), [
      row.scope,
      row.version,
      row.status,
      row.keyId,
      row.wrappedKey,
      row.createdAt,
      row.mac,
    ]);
  }

  /** Marks every active version of `scope` below `version` retired. */
  async retireBelow(scope: string, version: number, executor: SqlExecutor = this.executor): Promise<void> {
    await executor.execute(
      this.#sql(
        `UPDATE ${this.#q} SET status = 'retired' WHERE scope = ? AND version < ? AND status = 'active'`,
      ),
      [scope, version],
    );
  }

  /** Destroys `scope`'s wrapped branch keys: status `shredded`, wrapped key and MAC overwritten with NULL. */
  async shred(scope: string, executor: SqlExecutor = this.executor): Promise<number> {
    return executor.execute(
      this.#sql(`UPDATE ${this.#q} SET status = 'shredded', wrapped_key = NULL, mac = NULL WHERE scope = ?`),
      [scope],
    );
  }
}

function toRow(raw: Record<string, unknown>): BranchKeyRow {
  return {
    scope: String(raw.scope),
    version: Number(raw.version),
    status: String(raw.status) as BranchKeyStatus,
    keyId: String(raw.key_id),
    wrappedKey: raw.wrapped_key === null || raw.wrapped_key === undefined ? null : String(raw.wrapped_key),
    createdAt: String(raw.created_at),
    mac: raw.mac === null || raw.mac === undefined ? null : String(raw.mac),
  };
}
