/**
 * Property-based fuzzing of the value parser and of decryptRow: whatever the input, the only
 * outcomes are the right plaintext or a FieldsealError. Never another exception, never wrong
 * plaintext. 10,000 cases per property.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecryptionError,
  decryptValue,
  deriveDataKey,
  encryptValue,
  FieldsealError,
  isEncryptedValue,
  LocalKeyring,
  type PlaintextValue,
  parseValue,
  RowEnvelope,
  type ValuePlace,
} from '../src/index.js';

const RUNS = 10_000;
const key = deriveDataKey(randomBytes(32));
const place: ValuePlace = { table: 'User', column: 'email' };

/** Outcome of a call: the value it returned, or a marker that a FieldsealError was thrown. */
const REJECTED = Symbol('rejected');
function outcome<T>(fn: () => T): T | typeof REJECTED {
  try {
    return fn();
  } catch (error) {
    if (error instanceof FieldsealError) return REJECTED;
    throw error; // anything else fails the property
  }
}

function samePlaintext(a: unknown, b: PlaintextValue): boolean {
  if (typeof b === 'string') return a === b;
  return a instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
}

const plaintextArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.uint8Array({ maxLength: 40 }),
);
const digitsArb = fc.stringMatching(/^\d{1,5}$/);
const base64urlArb = fc.stringMatching(/^[A-Za-z0-9_-]{0,120}$/);

/** A text edit: replace, insert or delete one character, or truncate. */
const textEditArb = fc.record({
  kind: fc.constantFrom('replace', 'insert', 'delete', 'truncate', 'append'),
  at: fc.nat(),
  char: fc.oneof(fc.constantFrom(...'ABCabc012-_+/= \n\u0000é'), fc.string({ minLength: 1, maxLength: 1 })),
});
function applyTextEdit(text: string, edit: { kind: string; at: number; char: string }): string {
  const at = edit.at % (text.length + 1);
  switch (edit.kind) {
    case 'replace':
      return text.slice(0, at) + edit.char + text.slice(at + 1);
    case 'insert':
      return text.slice(0, at) + edit.char + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + 1);
    case 'truncate':
      return text.slice(0, at);
    default:
      return text + edit.char;
  }
}

const byteEditArb = fc.record({
  kind: fc.constantFrom('xor', 'set', 'truncate', 'append'),
  at: fc.nat(),
  byte: fc.integer({ min: 1, max: 255 }),
});
function applyByteEdit(bytes: Uint8Array, edit: { kind: string; at: number; byte: number }): Uint8Array {
  const copy = Buffer.from(bytes);
  const at = edit.at % copy.length;
  if (edit.kind === 'xor') copy[at] = (copy[at] as number) ^ edit.byte;
  else if (edit.kind === 'set') copy[at] = edit.byte;
  else if (edit.kind === 'truncate') return copy.subarray(0, at);
  else return Buffer.concat([copy, Buffer.of(edit.byte)]);
  return copy;
}

describe('value parser fuzz', () => {
  it('arbitrary strings: parseValue and decryptValue throw only FieldsealErrors (and nothing decrypts)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          base64urlArb.map((s) => `fs1:${s}`),
        ),
        (text) => {
          outcome(() => parseValue(text));
          expect(outcome(() => decryptValue(key, place, text))).toBe(REJECTED);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('arbitrary bytes, with or without the "fs1:" prefix: only FieldsealErrors', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 200 }), (prefixed, tail) => {
        const bytes = prefixed ? Buffer.concat([Buffer.from('fs1:'), tail]) : tail;
        outcome(() => parseValue(bytes));
        expect(outcome(() => decryptValue(key, place, bytes))).toBe(REJECTED);
      }),
      { numRuns: RUNS },
    );
  });

  it('random fs<digits>: prefixes: unsupported-version for 1–3 digits other than 1 and 2, a typed error always', () => {
    fc.assert(
      fc.property(digitsArb, base64urlArb, fc.boolean(), (digits, tail, binary) => {
        const text = `fs${digits}:${tail}`;
        const stored = binary ? Buffer.from(text, 'latin1') : text;
        let error: unknown;
        try {
          decryptValue(key, place, stored);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DecryptionError);
        const code = (error as DecryptionError).code;
        if (!['1', '2'].includes(digits) && digits.length <= 3) expect(code).toBe('unsupported-version');
        if (digits.length > 3) expect(isEncryptedValue(stored)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutated valid values (text form): either a FieldsealError or exactly the original plaintext', () => {
    fc.assert(
      fc.property(plaintextArb, fc.array(textEditArb, { minLength: 1, maxLength: 3 }), (plain, edits) => {
        const stored = encryptValue(key, place, plain, { output: 'text' }) as string;
        const mutated = edits.reduce(applyTextEdit, stored);
        const result = outcome(() => decryptValue(key, place, mutated));
        if (result !== REJECTED) expect(samePlaintext(result, plain)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutated valid values (binary form): either a FieldsealError or exactly the original plaintext, and a real change is always rejected', () => {
    fc.assert(
      fc.property(plaintextArb, fc.array(byteEditArb, { minLength: 1, maxLength: 3 }), (plain, edits) => {
        const stored = encryptValue(key, place, plain, { output: 'binary' }) as Uint8Array;
        const mutated = edits.reduce(applyByteEdit, stored);
        const result = outcome(() => decryptValue(key, place, mutated));
        if (!Buffer.from(mutated).equals(Buffer.from(stored))) expect(result).toBe(REJECTED);
        else expect(samePlaintext(result, plain)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('decryptRow fuzz', () => {
  const keyring = LocalKeyring.fromString(`fuzz:${randomBytes(32).toString('base64')}`);
  const envelope = new RowEnvelope({ keyring });
  const columns = ['email', 'name'] as const;

  interface Source {
    readonly rowId: number;
    readonly dataKey: string;
    readonly plain: Record<string, PlaintextValue>;
    readonly stored: Record<string, string | Uint8Array>;
  }

  it('random rows built from valid, swapped, mutated and random parts: FieldsealError or only correct plaintext', async () => {
    const sources: Source[] = [];
    for (let rowId = 1; rowId <= 4; rowId++) {
      const plain = {
        email: `user${rowId}@example.com`,
        name: rowId % 2 ? `Name ${rowId}` : Uint8Array.of(rowId, 0, 255),
      };
      const row = await envelope.encryptRow({
        table: 'User',
        ...(rowId <= 2 ? { rowId } : {}),
        values: plain,
      });
      sources.push({
        rowId,
        dataKey: row.dataKey,
        plain,
        stored: row.values as Record<string, string | Uint8Array>,
      });
    }

    // A cell: what is stored and, for ciphertext, which source row and plaintext it came from.
    // It may decrypt only to that plaintext, only with that row's data key (and row id if bound).
    type Cell =
      | { readonly stored: unknown; readonly kind: 'null' | 'passthrough' | 'never' }
      | {
          readonly stored: unknown;
          readonly kind: 'value';
          readonly source: number;
          readonly plain: PlaintextValue;
        };
    const src = (i: number) => sources[i] as Source;
    const valueCell = (i: number, column: (typeof columns)[number], stored: unknown): Cell => ({
      stored,
      kind: 'value',
      source: i,
      plain: src(i).plain[column] as PlaintextValue,
    });
    const cellArb = (own: number, column: (typeof columns)[number]): fc.Arbitrary<Cell> =>
      fc.oneof(
        fc.constant(valueCell(own, column, src(own).stored[column])),
        fc.nat({ max: 3 }).map((other) => valueCell(other, column, src(other).stored[column])),
        fc.constant<Cell>({ stored: src(own).stored[column === 'email' ? 'name' : 'email'], kind: 'never' }),
        textEditArb.map((edit) => {
          const s = src(own).stored[column];
          const stored =
            typeof s === 'string'
              ? applyTextEdit(s, edit)
              : applyByteEdit(s as Uint8Array, { kind: 'xor', at: edit.at, byte: 1 });
          return valueCell(own, column, stored);
        }),
        fc.string({ maxLength: 60 }).map<Cell>((s) => ({ stored: s, kind: 'passthrough' })),
        fc.uint8Array({ maxLength: 60 }).map<Cell>((b) => ({ stored: b, kind: 'passthrough' })),
        base64urlArb.map<Cell>((s) => ({ stored: `fs1:${s}`, kind: 'never' })),
        fc.constantFrom<Cell>(
          { stored: null, kind: 'null' },
          { stored: undefined, kind: 'null' },
          { stored: 42, kind: 'never' },
        ),
      );
    // The data-key column and the source row whose key it holds (-1: none).
    const dataKeyArb = (own: number): fc.Arbitrary<{ readonly text: unknown; readonly source: number }> =>
      fc.oneof(
        fc.constant({ text: src(own).dataKey, source: own }),
        fc.nat({ max: 3 }).map((other) => ({ text: src(other).dataKey, source: other })),
        textEditArb.map((edit) => ({ text: applyTextEdit(src(own).dataKey, edit), source: own })),
        fc
          .oneof(
            fc.string({ maxLength: 80 }),
            base64urlArb.map((s) => `fsk1:${s}`),
          )
          .map((text) => ({ text, source: -1 })),
        fc.constantFrom(null, undefined, 7).map((text) => ({ text, source: -1 })),
      );
    const caseArb = fc.nat({ max: 3 }).chain((own) =>
      fc.record({
        email: cellArb(own, 'email'),
        name: cellArb(own, 'name'),
        dataKey: dataKeyArb(own),
        rowId: fc.oneof(fc.constant(src(own).rowId), fc.constant(undefined), fc.nat({ max: 5 })),
        readMode: fc.constantFrom('strict' as const, 'tolerant' as const),
      }),
    );

    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const cells = { email: c.email, name: c.name };
        let result: Record<string, unknown>;
        try {
          result = await envelope.decryptRow({
            table: 'User',
            values: { email: c.email.stored, name: c.name.stored },
            dataKey: c.dataKey.text,
            ...(c.rowId === undefined ? {} : { rowId: c.rowId }),
            readMode: c.readMode,
          });
        } catch (error) {
          expect(error).toBeInstanceOf(FieldsealError);
          return;
        }
        for (const column of columns) {
          const cell = cells[column];
          const got = result[column];
          if (cell.kind === 'never')
            expect.fail(`${column}: a value that must not decrypt gave ${String(got)}`);
          else if (cell.kind === 'null') expect(got).toBe(cell.stored);
          else if (cell.kind !== 'value' || !isEncryptedValue(cell.stored)) {
            // Legacy plaintext (or ciphertext whose prefix a mutation destroyed) comes back as it
            // is, in tolerant mode only; it is never decrypted to something else.
            expect(c.readMode).toBe('tolerant');
            expect(got).toBe(cell.stored);
          } else {
            expect(c.dataKey.source).toBe(cell.source);
            if (cell.source < 2) expect(c.rowId).toBe(src(cell.source).rowId);
            expect(samePlaintext(got, cell.plain)).toBe(true);
          }
        }
      }),
      { numRuns: RUNS },
    );
  }, 60_000);
});
