/**
 * Prints the storage overhead table of docs/format.md, measured by encrypting real values.
 *
 *   pnpm overhead      (in packages/core)
 */
import { randomBytes } from 'node:crypto';
import { deriveDataKey, encryptValue, formatDataKey, LocalKeyring } from '../src/index.js';

const key = deriveDataKey(randomBytes(32));
const place = { table: 'User', column: 'email' };

console.log('| Plaintext | Text form (chars) | Added (text) | Binary form (bytes) | Added (binary) |');
console.log('|---:|---:|---:|---:|---:|');
for (const size of [0, 15, 16, 64, 1024]) {
  const text = encryptValue(key, place, 'x'.repeat(size)) as string;
  const binary = encryptValue(key, place, 'x'.repeat(size), { output: 'binary' }) as Uint8Array;
  console.log(
    `| ${size} B | ${text.length} | +${text.length - size} | ${binary.length} | +${binary.length - size} |`,
  );
}

const local = LocalKeyring.fromString(`2026-11:${randomBytes(32).toString('base64')}`);
const material = await local.generateDataKey({ 'fieldseal:table': 'User' });
console.log(
  `\nData-key column, LocalKeyring, key id "2026-11": ${formatDataKey(material).length} characters per row`,
);
console.log(
  `(wrapped key ${material.encryptedKey.length} bytes; with AWS KMS the wrapped key is the KMS ciphertext blob, typically ~184 bytes)`,
);
