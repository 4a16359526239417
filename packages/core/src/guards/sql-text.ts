import type { SqlDialect } from '../stored-tables.js';

/** Quotes an identifier for `dialect`, doubling any quote character inside it. */
export function quoteIdent(dialect: SqlDialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`;
}

/** A quoted, schema-qualified table name. */
export function qualifiedTable(dialect: SqlDialect, table: string, schema?: string): string {
  const name = quoteIdent(dialect, table);
  return schema ? `${quoteIdent(dialect, schema)}.${name}` : name;
}

/** A single-quoted SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Index of the parenthesis closing the one at `open`, skipping string literals, quoted
 * identifiers and comments; -1 when there is none.
 */
export function closingParen(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const char = sql[i];
    if (char === "'" || char === '"' || char === '`' || char === '[') {
      const end = char === '[' ? ']' : char;
      i++;
      while (i < sql.length && !(sql[i] === end && sql[i + 1] !== end)) i += sql[i] === end ? 2 : 1;
    } else if (char === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (char === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
    } else if (char === '(') depth++;
    else if (char === ')' && --depth === 0) return i;
  }
  return -1;
}
