import { createHmac, hkdfSync } from 'node:crypto';

/** Bytes of a branch key, of a wrapping key, and of the per-wrap salt. */
export const BRANCH_KEY_LENGTH = 32;
export const WRAP_SALT_LENGTH = 16;

/** HKDF `info` label of the key that wraps data keys (followed by the branch's scope and version). */
export const WRAP_LABEL = 'fieldseal branch-key wrap v1';
/** HKDF `info` label of the key that authenticates a key-store row. */
export const ROW_MAC_LABEL = 'fieldseal branch-key row mac v1';

function len32(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(bytes.length, 0);
  return out;
}

/** `len32(x) | x` of a UTF-8 string. */
export function field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([len32(bytes), bytes]);
}

/** A 4-byte big-endian unsigned integer. */
export function u32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value, 0);
  return out;
}

/**
 * The key that wraps one data key (docs/format.md, "Branch keys"):
 * `HKDF-SHA-256(IKM = branch key, salt = 16 random bytes of this wrap,
 *  info = "fieldseal branch-key wrap v1" | len32(scope) scope | u32(version), L = 32)`.
 * A fresh salt per wrap gives every data key its own wrapping key, so AES-GCM's IV limit per
 * key never comes near, however many rows one branch key serves.
 */
export function deriveWrappingKey(
  branchKey: Uint8Array,
  salt: Uint8Array,
  scope: string,
  version: number,
): Buffer {
  // RFC 5869 with one output block, written as two HMACs: hkdfSync costs several times more per
  // call, and this runs once per row written or read. Same bytes (checked by the vectors).
  const prk = createHmac('sha256', salt).update(branchKey).digest();
  const key = createHmac('sha256', prk)
    .update(Buffer.from(WRAP_LABEL, 'latin1'))
    .update(field(scope))
    .update(u32(version))
    .update(Buffer.of(1))
    .digest();
  prk.fill(0);
  return key;
}

/** The fields of a key-store row that its MAC covers (all but `status`, see docs/tenants.md). */
export interface BranchKeyRowFields {
  readonly scope: string;
  readonly version: number;
  readonly keyId: string;
  /** The wrapped branch key as stored (base64). */
  readonly wrappedKey: string;
  readonly createdAt: string;
}

/**
 * The MAC of a key-store row, hex: `HMAC-SHA-256(K_mac, "fieldseal branch-key row v1" |
 * len32(scope) scope | u32(version) | len32(keyId) keyId | len32(wrapped) wrapped |
 * len32(createdAt) createdAt)` with `K_mac = HKDF-SHA-256(IKM = branch key, salt = empty,
 * info = "fieldseal branch-key row mac v1", L = 32)`. Only someone holding the branch key (that
 * is, with KMS access) can make a row that passes.
 */
export function rowMac(branchKey: Uint8Array, row: BranchKeyRowFields): string {
  const macKey = Buffer.from(hkdfSync('sha256', branchKey, Buffer.alloc(0), ROW_MAC_LABEL, 32));
  const mac = createHmac('sha256', macKey)
    .update('fieldseal branch-key row v1')
    .update(field(row.scope))
    .update(u32(row.version))
    .update(field(row.keyId))
    .update(field(row.wrappedKey))
    .update(field(row.createdAt))
    .digest('hex');
  macKey.fill(0);
  return mac;
}
