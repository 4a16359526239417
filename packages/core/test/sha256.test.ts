import { createHash, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacFinish, hmacKey, sha256, wipeHmacKey } from '../src/sha256.js';

const hex = (text: string) => Buffer.from(text, 'hex');
const ours = (key: Uint8Array, message: Uint8Array) => hmacFinish(hmacKey(key), message).toString('hex');
const node = (key: Uint8Array, message: Uint8Array) =>
  createHmac('sha256', key).update(message).digest('hex');

// Lengths around SHA-256's padding boundaries: a tail of 55 bytes fits the 0x80 byte and the
// 8-byte length in its block, 56 does not; 64 is one whole block. The HMAC inner hash starts
// after the 64-byte ipad block, so the message's own length decides the padding.
const EDGES = [0, 1, 31, 32, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 183, 184, 192];
const KEY_EDGES = [0, 1, 16, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200];

describe('SHA-256 and HMAC-SHA-256 in JavaScript (src/sha256.ts)', () => {
  // RFC 4231 section 4: the HMAC-SHA-256 results of test cases 1–7.
  it.each([
    [
      '1: 20-byte key, "Hi There"',
      hex('0b'.repeat(20)),
      Buffer.from('Hi There'),
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    ],
    [
      '2: short key "Jefe"',
      Buffer.from('Jefe'),
      Buffer.from('what do ya want for nothing?'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    ],
    [
      '3: 50 bytes of 0xdd',
      hex('aa'.repeat(20)),
      hex('dd'.repeat(50)),
      '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
    ],
    [
      '4: 25-byte key, 50 bytes of 0xcd',
      hex('0102030405060708090a0b0c0d0e0f10111213141516171819'),
      hex('cd'.repeat(50)),
      '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
    ],
    [
      '6: 131-byte key (hashed first), one block of text',
      hex('aa'.repeat(131)),
      Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'),
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    ],
    [
      '7: 131-byte key, 152 bytes of text (three blocks)',
      hex('aa'.repeat(131)),
      Buffer.from(
        'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
      ),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ])('RFC 4231 test case %s', (_name, key, message, expected) => {
    expect(ours(key, message)).toBe(expected);
  });

  it('RFC 4231 test case 5: 20-byte key, output truncated to 128 bits', () => {
    const tag = hmacFinish(hmacKey(hex('0c'.repeat(20))), Buffer.from('Test With Truncation'));
    expect(tag.subarray(0, 16).toString('hex')).toBe('a3b6167473100ee06e0c796c2955552b');
  });

  it('SHA-256 of FIPS 180-4 examples and of every length 0..300 matches node:crypto', () => {
    expect(sha256(Buffer.from('abc')).toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(sha256(new Uint8Array(0)).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(
      sha256(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toString('hex'),
    ).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    const data = randomBytes(301);
    for (let length = 0; length <= 300; length++) {
      const message = data.subarray(0, length);
      expect(sha256(message).toString('hex'), `length ${length}`).toBe(
        createHash('sha256').update(message).digest('hex'),
      );
    }
  });

  it('matches createHmac for every message length 0..300 under keys around the block size', () => {
    const data = randomBytes(300);
    for (const keyLength of KEY_EDGES) {
      const key = randomBytes(keyLength);
      const prepared = hmacKey(key);
      for (let length = 0; length <= 300; length++) {
        const message = data.subarray(0, length);
        expect(hmacFinish(prepared, message).toString('hex'), `key ${keyLength}, message ${length}`).toBe(
          node(key, message),
        );
      }
    }
  });

  it('matches createHmac for every key length 0..200 under messages around the padding boundaries', () => {
    const data = randomBytes(200);
    for (let keyLength = 0; keyLength <= 200; keyLength++) {
      const key = randomBytes(keyLength);
      for (const length of EDGES) {
        const message = data.subarray(0, length);
        expect(ours(key, message), `key ${keyLength}, message ${length}`).toBe(node(key, message));
      }
    }
  });

  it('matches createHmac on random keys (0..200 bytes) and messages (0..300 bytes), at any byte offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat({ max: 7 }),
        (key, message, offset) => {
          // A view at an offset into a larger buffer, as Buffer's pool hands out.
          const backing = new Uint8Array(offset + message.length + 3);
          backing.set(message, offset);
          const view = backing.subarray(offset, offset + message.length);
          expect(ours(key, view)).toBe(node(key, message));
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('a prepared key gives the same result on every use, interleaved with other keys (no state carried over)', () => {
    const first = randomBytes(32);
    const second = randomBytes(16);
    const a = hmacKey(first);
    const b = hmacKey(second);
    for (let i = 0; i < 50; i++) {
      const message = randomBytes(i * 7);
      expect(hmacFinish(a, message).toString('hex')).toBe(node(first, message));
      expect(hmacFinish(b, message).toString('hex')).toBe(node(second, message));
    }
  });

  it('writes into a caller-supplied buffer, and a wiped prepared key holds only zeros', () => {
    const key = randomBytes(32);
    const prepared = hmacKey(key);
    const out = Buffer.alloc(32);
    expect(hmacFinish(prepared, Buffer.from('x'), out)).toBe(out);
    expect(out.toString('hex')).toBe(node(key, Buffer.from('x')));
    wipeHmacKey(prepared);
    expect(prepared.every((word) => word === 0)).toBe(true);
  });
});
