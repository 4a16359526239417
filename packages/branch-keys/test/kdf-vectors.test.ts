/**
 * The branch-key KDF, wrapped-data-key layout and row MAC of docs/format.md ("Branch keys"):
 * known answers checked against the library and against an independent implementation written
 * here from the document with `createHmac` only (HKDF by hand, RFC 5869).
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveWrappingKey, parseBranchWrap, rowMac, wrapDataKey } from '../src/index.js';
import { unwrapDataKey } from '../src/wrapped-data-key.js';

const seq = (start: number, length: number) =>
  Buffer.from(Array.from({ length }, (_, i) => (start + i) & 0xff));
const branchKey = seq(0x00, 32);
const salt = seq(0x40, 16);
const iv = seq(0x60, 12);
const dataKey = seq(0x80, 32);
const context = { 'fieldseal:table': 'Invoice', 'fieldseal:tenant': 'acme' };

/** The vectors as printed in docs/format.md. */
const VECTORS = {
  wrappingKeyAcmeV3: '17f2c556c81444c4328607af63dc9ffde3a1ee08168192c1e4b4c59f6be2c6a7',
  wrappingKeyGlobalV1: '6352ba313ef2496bc1232751e01ea671bfe71562de66bf20fa7816f9eff2e631',
  wrapped:
    '42000461636d6500000003404142434445464748494a4b4c4d4e4f606162636465666768696a6bacb5e827f51be8dd077fa7fc8c1e31f2548e66e6c1d0b310e410c9eaa96e4c6486262bb1802cb624f25d77bd564e0869',
  mac: '5ed935aa8599ecb9f97fb1c514d7547aa69ca3be953151af70c5ea8cfb8dbfb3',
};
const macRow = {
  scope: 'acme',
  version: 3,
  keyId: 'master-1',
  wrappedKey: 'AAAA',
  createdAt: '2026-11-29T00:00:00.000Z',
};

namespace Spec {
  const hmac = (key: Buffer, ...parts: Buffer[]) => {
    const h = createHmac('sha256', key);
    for (const part of parts) h.update(part);
    return h.digest();
  };
  /** HKDF-SHA-256 for one 32-byte block: PRK = HMAC(salt, IKM); OKM = HMAC(PRK, info | 0x01). */
  export const hkdf32 = (ikm: Buffer, hkdfSalt: Buffer, info: Buffer) =>
    hmac(hmac(hkdfSalt.length ? hkdfSalt : Buffer.alloc(32), ikm), info, Buffer.of(1));
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  export const field = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    return Buffer.concat([u32(bytes.length), bytes]);
  };
  export const wrappingKey = (scope: string, version: number) =>
    hkdf32(
      branchKey,
      salt,
      Buffer.concat([Buffer.from('fieldseal branch-key wrap v1'), field(scope), u32(version)]),
    );
  /** canonical(context): keys sorted, `len:key len:value;` (docs/format.md, LocalKeyring). */
  const canonical = (c: Record<string, string>) =>
    Object.keys(c)
      .sort()
      .map((k) => `${k.length}:${k}${(c[k] as string).length}:${c[k]};`)
      .join('');
  export function wrap(scope: string, version: number): Buffer {
    const scopeBytes = Buffer.from(scope, 'utf8');
    const len16 = Buffer.alloc(2);
    len16.writeUInt16BE(scopeBytes.length);
    const header = Buffer.concat([Buffer.of(0x42), len16, scopeBytes, u32(version), salt]);
    const cipher = createCipheriv('aes-256-gcm', wrappingKey(scope, version), iv);
    cipher.setAAD(Buffer.concat([header, Buffer.from(canonical(context), 'utf8')]));
    return Buffer.concat([header, iv, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  }
  export function mac(): string {
    const macKey = hkdf32(branchKey, Buffer.alloc(0), Buffer.from('fieldseal branch-key row mac v1'));
    return hmac(
      macKey,
      Buffer.from('fieldseal branch-key row v1'),
      field(macRow.scope),
      u32(macRow.version),
      field(macRow.keyId),
      field(macRow.wrappedKey),
      field(macRow.createdAt),
    ).toString('hex');
  }
}

describe('branch-key vectors (docs/format.md)', () => {
  it('the wrapping key is HKDF-SHA-256(branch key, per-wrap salt, label | scope | version)', () => {
    expect(Spec.wrappingKey('acme', 3).toString('hex')).toBe(VECTORS.wrappingKeyAcmeV3);
    expect(Spec.wrappingKey('', 1).toString('hex')).toBe(VECTORS.wrappingKeyGlobalV1);
    expect(deriveWrappingKey(branchKey, salt, 'acme', 3).toString('hex')).toBe(VECTORS.wrappingKeyAcmeV3);
    expect(deriveWrappingKey(branchKey, salt, '', 1).toString('hex')).toBe(VECTORS.wrappingKeyGlobalV1);
  });

  it('the wrapped data key has the documented layout, from both implementations', () => {
    expect(Spec.wrap('acme', 3).toString('hex')).toBe(VECTORS.wrapped);
    const wrapped = wrapDataKey(branchKey, { scope: 'acme', version: 3 }, dataKey, context, { salt, iv });
    expect(wrapped.toString('hex')).toBe(VECTORS.wrapped);
    const parsed = parseBranchWrap(wrapped);
    expect(parsed).toMatchObject({ scope: 'acme', version: 3 });
    expect(unwrapDataKey(branchKey, parsed as NonNullable<typeof parsed>, context)).toEqual(dataKey);
  });

  it('unwrapping under another tenant’s context, or with a changed version byte, fails', () => {
    const wrapped = Buffer.from(VECTORS.wrapped, 'hex');
    const parsed = parseBranchWrap(wrapped) as NonNullable<ReturnType<typeof parseBranchWrap>>;
    expect(() => unwrapDataKey(branchKey, parsed, { ...context, 'fieldseal:tenant': 'globex' })).toThrow(
      /unwrap/,
    );
    const bumped = Buffer.from(wrapped);
    bumped[10] = 4; // version 3 → 4 (last byte of u32 version)
    const other = parseBranchWrap(bumped) as NonNullable<ReturnType<typeof parseBranchWrap>>;
    expect(other.version).toBe(4);
    expect(() => unwrapDataKey(branchKey, other, context)).toThrow(/unwrap/);
  });

  it('the row MAC matches the documented construction', () => {
    expect(Spec.mac()).toBe(VECTORS.mac);
    expect(rowMac(branchKey, macRow)).toBe(VECTORS.mac);
  });
});
