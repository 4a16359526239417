import { ConfigError } from './errors.js';
import {
  type DecryptedRow,
  type DecryptRowInput,
  type EncryptedRow,
  type EncryptedRowWrite,
  type EncryptRowInput,
  RowEnvelope,
  type RowEnvelopeOptions,
} from './row-envelope.js';
import type { WriteToRowsInput, WriteToRowsResult } from './row-protocol.js';

/**
 * Encryption names by table name: `{ clients: 'customers' }` keeps the table now called `clients`
 * bound to the name `customers` it was encrypted under (see docs/rebind.md). Tables not listed
 * are bound to their own name.
 */
export type EncryptionNames = Readonly<Record<string, string>>;

/**
 * Checks an `encryptionNames` option: non-empty names without NUL, and no chains (a name that is
 * itself a listed table would make the mapping depend on how often it is applied).
 */
export function assertEncryptionNames(
  names: unknown,
  option = 'encryptionNames',
): asserts names is EncryptionNames {
  if (names === null || typeof names !== 'object' || Array.isArray(names))
    throw new ConfigError(option, 'must map table names to encryption names, e.g. { clients: "customers" }');
  for (const [table, name] of Object.entries(names)) {
    if (typeof name !== 'string' || name.length === 0 || name.includes('\u0000'))
      throw new ConfigError(`${option}.${table}`, 'must be a non-empty name without NUL characters');
    if (name !== table && Object.hasOwn(names, name) && (names as EncryptionNames)[name] !== name)
      throw new ConfigError(
        `${option}.${table}`,
        `"${name}" is itself mapped to another name; map each table straight to its final encryption name`,
      );
  }
}

/** The encryption name of `table` under `names`. */
export function encryptionNameOf(names: EncryptionNames | undefined, table: string): string {
  return names && Object.hasOwn(names, table) ? (names[table] as string) : table;
}

/**
 * A {@link RowEnvelope} that binds each table to its encryption name: every entry point maps the
 * table it is given (applying the mapping twice gives the same name, as checked above), so the
 * values' AAD and the data keys' context always agree, whatever calls whatever.
 */
export class NamedRowEnvelope extends RowEnvelope {
  readonly encryptionNames: EncryptionNames;

  constructor(options: RowEnvelopeOptions & { readonly encryptionNames: EncryptionNames }) {
    super(options);
    assertEncryptionNames(options.encryptionNames);
    this.encryptionNames = Object.freeze({ ...options.encryptionNames });
  }

  #name<T extends { readonly table: string }>(input: T): T {
    return { ...input, table: encryptionNameOf(this.encryptionNames, input.table) };
  }

  override contextFor(table: string, ...rest: never[]): ReturnType<RowEnvelope['contextFor']> {
    // `rest`: whatever else the base takes (a tenant, say) passes through unchanged.
    const base = super.contextFor as (
      table: string,
      ...rest: never[]
    ) => ReturnType<RowEnvelope['contextFor']>;
    return base.call(this, encryptionNameOf(this.encryptionNames, table), ...rest);
  }

  override encryptRow(input: EncryptRowInput): Promise<EncryptedRow> {
    return super.encryptRow(this.#name(input));
  }

  override encryptForRow(input: EncryptRowInput & { readonly dataKey: unknown }): Promise<EncryptedRowWrite> {
    return super.encryptForRow(this.#name(input));
  }

  override writeToRows<Id>(input: WriteToRowsInput<Id>): Promise<WriteToRowsResult<Id>> {
    return super.writeToRows(this.#name(input));
  }

  override decryptRow(input: DecryptRowInput): Promise<DecryptedRow> {
    return super.decryptRow(this.#name(input));
  }

  override decryptRows(inputs: readonly DecryptRowInput[]): Promise<DecryptedRow[]> {
    return super.decryptRows(inputs.map((input) => this.#name(input)));
  }
}
