import type { EncryptedValueType, NormalizeSpec } from '@fieldseal/core';
import { Column, type ColumnOptions } from 'typeorm';

/** Options of {@link Encrypted}. */
export interface EncryptedOptions {
  /**
   * How the property's value is turned into text before encryption and back after it:
   * `string`, `number`, `boolean`, `date` (ISO 8601), `json` (`JSON.stringify`) or `bytes`
   * (a `Buffer`/`Uint8Array`). Defaults to the type TypeScript records for the property
   * (`design:type`, with `emitDecoratorMetadata`) when that is `String`, `Number`, `Boolean`,
   * `Date`, `Buffer`, `Uint8Array` or `Array`, and to `string` otherwise. Set it explicitly for
   * object types (`json`) and whenever your compiler records no or imprecise metadata
   * (esbuild/tsx record none; Vite 8/oxc records `Object` for `number | null`).
   */
  readonly type?: EncryptedValueType;
}

/** Options of {@link BlindIndex}. */
export interface BlindIndexDecoratorOptions {
  /**
   * Applied to the source value before hashing, on writes and on lookups alike, for
   * case-insensitive lookups and the like: named steps, `['trim', 'lowercase']` (see
   * `NormalizerName`; the same names as Prisma's `@blindIndex(email, normalize: "trim,lowercase")`),
   * or your own function, `(email) => email.trim().toLowerCase()`. Defaults to none.
   */
  readonly normalize?: NormalizeSpec;
}

/** What the decorators recorded for one class. */
export interface ClassDeclarations {
  readonly encrypted: Map<string, { readonly options: EncryptedOptions; readonly designType: unknown }>;
  readonly indexes: Map<string, { readonly source: string; readonly options: BlindIndexDecoratorOptions }>;
  dataKey?: string;
  /** Properties marked `@Tenant()` (one is allowed; more are reported when the entity is planned). */
  readonly tenants: Set<string>;
}

// Keyed by class constructor. Module-level, as TypeORM's own metadata storage is: decorators
// run when the class is defined, before any data source exists.
const declarations = new Map<object, ClassDeclarations>();

function forClass(target: object): ClassDeclarations {
  const ctor = (target as { constructor: object }).constructor;
  let found = declarations.get(ctor);
  if (!found) {
    found = { encrypted: new Map(), indexes: new Map(), tenants: new Set() };
    declarations.set(ctor, found);
  }
  return found;
}

/** The declarations of `ctor` itself (not its base classes); undefined when none. */
export function declarationsOf(ctor: object): ClassDeclarations | undefined {
  return declarations.get(ctor);
}

function readDesignType(target: object, property: string | symbol): unknown {
  const reflect = Reflect as unknown as {
    getMetadata?: (key: string, target: object, property: string | symbol) => unknown;
  };
  return typeof reflect.getMetadata === 'function'
    ? reflect.getMetadata('design:type', target, property)
    : undefined;
}

/**
 * Marks a column as encrypted: its value is encrypted under the row's data key before every
 * write and decrypted after every load. Put it beside a text column (`@Column({ type: 'text' })`,
 * or a binary column for `bytes`), which holds the ciphertext.
 *
 * @example
 * @Encrypted() @Column({ type: 'text' }) email!: string;
 * @Encrypted({ type: 'date' }) @Column({ type: 'text', nullable: true }) birthday!: Date | null;
 */
export function Encrypted(options: EncryptedOptions = {}): PropertyDecorator {
  return (target, property) => {
    forClass(target).encrypted.set(String(property), {
      options: Object.freeze({ ...options }),
      designType: readDesignType(target, property),
    });
  };
}

/**
 * Marks a column as the blind index of an encrypted property: fieldseal writes into it a
 * keyed hash of the source's plaintext on every write of the source, and rewrites equality
 * lookups on the source (`findOneBy({ email })`, `In([...])`) into lookups on it. Never write
 * it yourself. Declare the column beside it: `varchar(64)`, nullable, usually unique.
 *
 * @example
 * @BlindIndex('email') @Column({ type: 'varchar', length: 64, nullable: true, unique: true }) emailIndex!: string | null;
 */
export function BlindIndex(source: string, options: BlindIndexDecoratorOptions = {}): PropertyDecorator {
  return (target, property) => {
    forClass(target).indexes.set(String(property), { source, options: Object.freeze({ ...options }) });
  };
}

/**
 * Declares the column holding the row's wrapped data key (`fsk2:…`) and defines it as a
 * nullable text column (pass TypeORM column options to rename it, e.g. `{ name: 'data_key' }`).
 * fieldseal sets it when a row is created and never changes the key afterwards.
 *
 * @example
 * @DataKeyColumn() dataKey!: string | null;
 */
export function DataKeyColumn(options: ColumnOptions = {}): PropertyDecorator {
  const column = Column({ type: 'text', nullable: true, ...options });
  return (target, property) => {
    forClass(target).dataKey = String(property);
    column(target, property);
  };
}

/**
 * Marks a plain column (a string or integer, beside its own `@Column()`) as the row's tenant:
 * its value, as text, scopes the row's data key and every encrypted value to the tenant, so a
 * value or data key moved to another tenant's row fails, and the `keyringFor(tenant)` option
 * picks the keyring of each tenant's rows. A new row needs a tenant; an update that would move a
 * row holding encrypted values to another tenant is refused. See docs/tenants.md.
 *
 * @example
 * @Tenant() @Column({ type: 'varchar', length: 64 }) tenantId!: string;
 */
export function Tenant(): PropertyDecorator {
  return (target, property) => {
    forClass(target).tenants.add(String(property));
  };
}
