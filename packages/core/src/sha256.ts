/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104) in plain JavaScript, for short messages with
 * keys used more than once. Internal: not exported from the package.
 *
 * Why not node:crypto: every `createHmac` object costs ≈ 3.4 µs before any data on the VM of
 * docs/performance.md, and a row's v2 key derivation needs three of them. Here a key's inner and
 * outer states (the ipad and opad blocks compressed once) are computed once per key, and one HMAC
 * of a short message is then two compressions. Output is bit-identical to node:crypto (checked by
 * test/sha256.test.ts against `createHmac` and RFC 4231).
 *
 * Secrets: an {@link HmacKey} is key material (it replaces the key: anyone holding it computes the
 * HMAC); wipe it with {@link wipeHmacKey} when the key would be wiped. The module's scratch
 * buffers (message tail, schedule, chaining value) are zero-filled after every call.
 */

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const BLOCK = 64;
/** Bytes of a SHA-256 digest and of an HMAC-SHA-256 tag. */
export const SHA256_LENGTH = 32;

// Scratch, reused by every call (all calls are synchronous) and zero-filled after each.
const schedule = new Int32Array(64);
const chain = new Int32Array(8);
const tail = new Uint8Array(2 * BLOCK);

/**
 * Compresses the whole 64-byte blocks of `bytes[pos, end)` into the chaining value
 * `state[at, at + 8)`.
 */
function compress(state: Int32Array, at: number, bytes: Uint8Array, pos: number, end: number): void {
  const w = schedule;
  for (; pos + BLOCK <= end; pos += BLOCK) {
    for (let i = 0; i < 16; i++) {
      const j = pos + i * 4;
      w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      let u = w[i - 2]!;
      const s1 = ((u >>> 17) | (u << 15)) ^ ((u >>> 19) | (u << 13)) ^ (u >>> 10);
      u = w[i - 15]!;
      const s0 = ((u >>> 7) | (u << 25)) ^ ((u >>> 18) | (u << 14)) ^ (u >>> 3);
      w[i] = (((s1 + w[i - 7]!) | 0) + ((s0 + w[i - 16]!) | 0)) | 0;
    }
    let a = state[at]!;
    let b = state[at + 1]!;
    let c = state[at + 2]!;
    let d = state[at + 3]!;
    let e = state[at + 4]!;
    let f = state[at + 5]!;
    let g = state[at + 6]!;
    let h = state[at + 7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (((((S1 + ((e & f) ^ (~e & g))) | 0) + h) | 0) + ((K[i]! + w[i]!) | 0)) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    state[at] = (state[at]! + a) | 0;
    state[at + 1] = (state[at + 1]! + b) | 0;
    state[at + 2] = (state[at + 2]! + c) | 0;
    state[at + 3] = (state[at + 3]! + d) | 0;
    state[at + 4] = (state[at + 4]! + e) | 0;
    state[at + 5] = (state[at + 5]! + f) | 0;
    state[at + 6] = (state[at + 6]! + g) | 0;
    state[at + 7] = (state[at + 7]! + h) | 0;
  }
}

/**
 * Hashes `message` into `chain`, which holds the chaining value after `before` bytes (a multiple
 * of 64) were already compressed: the whole blocks, then the padded tail (0x80, zeros, the total
 * length in bits as a 64-bit big-endian number).
 */
function finish(message: Uint8Array, before: number): void {
  const whole = message.length - (message.length % BLOCK);
  compress(chain, 0, message, 0, whole);
  const rest = message.length - whole;
  for (let i = 0; i < rest; i++) tail[i] = message[whole + i]!;
  tail[rest] = 0x80;
  const end = rest < BLOCK - 8 ? BLOCK : 2 * BLOCK;
  tail.fill(0, rest + 1, end - 8);
  const bits = (before + message.length) * 8;
  const high = Math.floor(bits / 0x1_0000_0000);
  const low = bits >>> 0;
  tail[end - 8] = high >>> 24;
  tail[end - 7] = high >>> 16;
  tail[end - 6] = high >>> 8;
  tail[end - 5] = high;
  tail[end - 4] = low >>> 24;
  tail[end - 3] = low >>> 16;
  tail[end - 2] = low >>> 8;
  tail[end - 1] = low;
  compress(chain, 0, tail, 0, end);
}

/** Writes `chain` big-endian into `out` and zero-fills the scratch. */
function output(out: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const word = chain[i]!;
    out[i * 4] = word >>> 24;
    out[i * 4 + 1] = word >>> 16;
    out[i * 4 + 2] = word >>> 8;
    out[i * 4 + 3] = word;
  }
  wipeScratch();
}

function wipeScratch(): void {
  schedule.fill(0);
  chain.fill(0);
  tail.fill(0);
}

/** SHA-256 of `message`. */
export function sha256(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SHA256_LENGTH);
  chain.set(IV);
  finish(message, 0);
  output(out);
  return out;
}

/**
 * An HMAC-SHA-256 key, prepared: the chaining values after the key's ipad block (words 0–7) and
 * after its opad block (words 8–15). Key material: wipe it with {@link wipeHmacKey}.
 */
export type HmacKey = Int32Array & { readonly __hmacKey: true };

const keyBlock = new Uint8Array(BLOCK);

/**
 * Prepares `key` (any length; longer than 64 bytes is hashed first, RFC 2104) for
 * {@link hmacFinish}, into `into` (16 words, e.g. a reused one) or a new array.
 */
export function hmacKey(key: Uint8Array, into: Int32Array = new Int32Array(16)): HmacKey {
  const block = keyBlock; // all zeros between calls
  if (key.length > BLOCK) {
    const hashed = sha256(key);
    block.set(hashed);
    hashed.fill(0);
  } else block.set(key);
  const state = into;
  for (let i = 0; i < BLOCK; i++) block[i]! ^= 0x36;
  state.set(IV, 0);
  compress(state, 0, block, 0, BLOCK);
  for (let i = 0; i < BLOCK; i++) block[i]! ^= 0x36 ^ 0x5c;
  state.set(IV, 8);
  compress(state, 8, block, 0, BLOCK);
  block.fill(0);
  wipeScratch();
  return state as HmacKey;
}

/**
 * HMAC-SHA-256 of `message` under a prepared key, into `out` (a new 32-byte Buffer by default).
 */
export function hmacFinish(
  key: HmacKey,
  message: Uint8Array,
  out: Buffer = Buffer.allocUnsafe(SHA256_LENGTH),
): Buffer {
  // Inner hash: H((K ^ ipad) || message), resumed after the ipad block.
  for (let i = 0; i < 8; i++) chain[i] = key[i]!;
  finish(message, BLOCK);
  // Outer hash: H((K ^ opad) || inner), one block: the 32-byte inner hash, padded to 96 bytes' length.
  for (let i = 0; i < 8; i++) {
    const word = chain[i]!;
    tail[i * 4] = word >>> 24;
    tail[i * 4 + 1] = word >>> 16;
    tail[i * 4 + 2] = word >>> 8;
    tail[i * 4 + 3] = word;
  }
  tail[32] = 0x80;
  tail.fill(0, 33, 62);
  tail[62] = (((BLOCK + SHA256_LENGTH) * 8) >>> 8) & 0xff;
  tail[63] = ((BLOCK + SHA256_LENGTH) * 8) & 0xff;
  for (let i = 0; i < 8; i++) chain[i] = key[8 + i]!;
  compress(chain, 0, tail, 0, BLOCK);
  output(out);
  return out;
}

/** Zero-fills a prepared key. */
export function wipeHmacKey(key: HmacKey): void {
  key.fill(0);
}
