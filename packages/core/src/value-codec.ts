/** How an encrypted property's value is turned into plaintext for encryption, and back. */
export type EncryptedValueType = 'string' | 'number' | 'boolean' | 'date' | 'json' | 'bytes';

const VALUE_TYPES: readonly EncryptedValueType[] = ['string', 'number', 'boolean', 'date', 'json', 'bytes'];

/** True when `type` is one of the supported value types. */
export function isValueType(type: unknown): type is EncryptedValueType {
  return VALUE_TYPES.includes(type as EncryptedValueType);
}

/**
 * The value type TypeScript's `design:type` metadata implies, or `string` when it implies
 * none. `Object` is deliberately *not* read as `json`: compilers emit it for object types but
 * also for unions (`string | number`, and under Vite 8/oxc even `string | null`), and
 * guessing wrong would silently change how strings are stored.
 */
export function valueTypeFromDesign(designType: unknown): EncryptedValueType {
  if (designType === Number) return 'number';
  if (designType === Boolean) return 'boolean';
  if (designType === Date) return 'date';
  if (designType === Array) return 'json';
  if (
    typeof designType === 'function' &&
    (designType === Uint8Array || designType.prototype instanceof Uint8Array)
  )
    return 'bytes';
  return 'string';
}

/** Why a value does not fit its declared type; the reason never contains the value. */
export class ValueTypeMismatch {
  constructor(readonly reason: string) {}
}

/**
 * Serialises a property value for encryption. Returns the plaintext (string, or bytes for
 * `bytes`), or a {@link ValueTypeMismatch} naming what was wrong — without the value.
 * `null`/`undefined` never reach here.
 */
export function encodeValue(
  type: EncryptedValueType,
  value: unknown,
): string | Uint8Array | ValueTypeMismatch {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      return new ValueTypeMismatch(
        `holds ${describe(value)} but is declared as text; declare @Encrypted({ type: '${suggest(value)}' })`,
      );
    case 'number':
      if (typeof value !== 'number')
        return new ValueTypeMismatch(`holds ${describe(value)}, declared as number`);
      // String() drops the sign of -0; keep it so the value comes back identical.
      return Object.is(value, -0) ? '-0' : String(value);
    case 'boolean':
      if (typeof value !== 'boolean')
        return new ValueTypeMismatch(`holds ${describe(value)}, declared as boolean`);
      return value ? 'true' : 'false';
    case 'date':
      if (!(value instanceof Date))
        return new ValueTypeMismatch(`holds ${describe(value)}, declared as date`);
      if (Number.isNaN(value.getTime())) return new ValueTypeMismatch('holds an invalid Date');
      return value.toISOString();
    case 'json': {
      if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
        return new ValueTypeMismatch(`holds ${describe(value)}, which JSON cannot represent`);
      }
      const text = JSON.stringify(value);
      if (text === undefined)
        return new ValueTypeMismatch(`holds ${describe(value)}, which JSON cannot represent`);
      return text;
    }
    case 'bytes':
      if (value instanceof Uint8Array) return value;
      return new ValueTypeMismatch(`holds ${describe(value)}, declared as bytes`);
  }
}

/**
 * Turns decrypted plaintext back into the property's type. A legacy plaintext value read in
 * tolerant mode goes through here too. Returns a {@link ValueTypeMismatch} when the text does
 * not parse as the declared type.
 */
export function decodeValue(type: EncryptedValueType, plaintext: string | Uint8Array): unknown {
  if (type === 'bytes')
    return typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
  const text = typeof plaintext === 'string' ? plaintext : Buffer.from(plaintext).toString('utf8');
  switch (type) {
    case 'string':
      return text;
    case 'number': {
      const number = Number(text);
      return text.trim() === '' || (Number.isNaN(number) && text !== 'NaN')
        ? new ValueTypeMismatch('does not hold a number')
        : number;
    }
    case 'boolean':
      return text === 'true'
        ? true
        : text === 'false'
          ? false
          : new ValueTypeMismatch('does not hold a boolean');
    case 'date': {
      const date = new Date(text);
      return Number.isNaN(date.getTime()) ? new ValueTypeMismatch('does not hold a date') : date;
    }
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        return new ValueTypeMismatch('does not hold JSON');
      }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Date) return 'a Date';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function suggest(value: unknown): EncryptedValueType {
  if (value instanceof Date) return 'date';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  return 'json';
}
