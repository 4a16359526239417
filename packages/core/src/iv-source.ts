import { randomFillSync } from 'node:crypto';

/** Bytes of an AES-GCM IV (96 bits, the size NIST SP 800-38D recommends). */
export const IV_LENGTH = 12;

// One CSPRNG call per 512 IVs instead of one per value: randomBytes(12) per value costs more
// than encrypting a short value. Each IV is handed out once; a used pool is never refilled.
const POOL_IVS = 512;
let pool = Buffer.alloc(0);
let offset = 0;

/** A fresh random 96-bit IV (a view into a pool of CSPRNG output; never handed out twice). */
export function nextIv(): Buffer {
  if (offset + IV_LENGTH > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(IV_LENGTH * POOL_IVS));
    offset = 0;
  }
  const iv = pool.subarray(offset, offset + IV_LENGTH);
  offset += IV_LENGTH;
  return iv;
}
