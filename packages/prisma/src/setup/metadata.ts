import type { NormalizeSpec } from '@fieldseal/core';

/**
 * Encryption metadata of a Prisma schema: which fields are encrypted, where each row keeps its
 * data key and its blind indexes, and how models are related. The `fieldseal-prisma` generator
 * writes it from `///` annotations; it can also be written by hand.
 */
export interface FieldEncryptionMetadata {
  /** Format of this object. Always 1. */
  readonly version: 1;
  /** Per Prisma model name (`User`, not `user`). Models without encrypted fields may be listed for their relations. */
  readonly models: Readonly<Record<string, ModelEncryptionMetadata>>;
}

/** One model's entry in {@link FieldEncryptionMetadata}. */
export interface ModelEncryptionMetadata {
  /**
   * The database table (`@@map`). Bound into every value and into the data key's encryption
   * context, so renaming the model (keeping the table) does not break decryption. Defaults to the model name.
   */
  readonly table?: string;
  /** The fields of the primary key, named in errors and used to target rows. Defaults to `['id']`. */
  readonly idFields?: readonly string[];
  /** The `/// @dataKey` field holding the row's wrapped data key. Required when `encrypted` is not empty. */
  readonly dataKey?: string;
  /**
   * The `/// @tenant` field: a plaintext `String` or `Int` naming the row's tenant. Its value (as
   * text) scopes the row's data key and every encrypted value to the tenant (docs/tenants.md).
   */
  readonly tenant?: string;
  /** The `/// @encrypted` fields, by field name. */
  readonly encrypted?: Readonly<Record<string, EncryptedFieldMetadata>>;
  /**
   * Database columns of the id, data-key and blind-index fields whose column is renamed
   * (`@map`), by field name. Used by tools that work on stored rows in SQL (the `fieldseal`
   * CLI). Optional; a field not listed is stored in a column of its own name.
   */
  readonly columns?: Readonly<Record<string, string>>;
  /** Relation fields, by field name. Needed to follow nested writes and `include`s into encrypted models. */
  readonly relations?: Readonly<Record<string, RelationMetadata>>;
}

/** An encrypted field. */
export interface EncryptedFieldMetadata {
  /** The Prisma type: `String` (ciphertext stored as text) or `Bytes`. Defaults to `String`. */
  readonly type?: 'String' | 'Bytes';
  /** The database column (`@map`), bound into the value. Defaults to the field name. */
  readonly column?: string;
  /** The field holding this field's blind index (`/// @blindIndex(field)`), if any. */
  readonly blindIndex?: string;
  /**
   * How the value is normalized before its blind index is computed, on writes and lookups alike
   * (`/// @blindIndex(email, normalize: "trim,lowercase")`): names of steps (see `NormalizerName`
   * in `@fieldseal/core`), or, in metadata written in code, a function. Defaults to none.
   */
  readonly normalize?: NormalizeSpec;
}

/** A relation field. */
export interface RelationMetadata {
  /** The related model. */
  readonly model: string;
  /** True for a to-many relation (`Post[]`). */
  readonly list: boolean;
  /** Prisma's relation name (pairs the field with its back-relation on the other model). */
  readonly name: string;
  /** The scalar fields holding this relation's foreign key, on the side that holds it. */
  readonly fields?: readonly string[];
}
