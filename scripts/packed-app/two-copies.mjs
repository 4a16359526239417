// Two installed copies of @fieldseal/core (the app's, and one nested under @fieldseal/cache, as
// npm installs when versions differ): the keyring throws the app copy's KeyringError, the cache
// checks it with its own copy. The decrypt grace period must still serve the cached key.
import { createRequire } from 'node:module';
import { CachingKeyring } from '@fieldseal/cache';
import { KeyringError, RowEnvelope } from '@fieldseal/core';
import { appKeyring } from './keys.mjs';

const fromCache = createRequire(import.meta.resolve('@fieldseal/cache'));
const cacheCore = await import(fromCache.resolve('@fieldseal/core'));
if (cacheCore.KeyringError === KeyringError) throw new Error('only one copy of @fieldseal/core is installed');

const local = appKeyring();
let down = false;
let refused = 0;
const flaky = {
  name: 'flaky',
  generateDataKey: (context, hint) => local.generateDataKey(context, hint),
  decryptDataKey: async (key, context) => {
    if (down) {
      refused++;
      throw new KeyringError('unavailable', 'KMS is down (simulated)');
    }
    return local.decryptDataKey(key, context);
  },
};
const keyring = new CachingKeyring(flaky, { decryptMaxAge: 50, decryptGracePeriod: 60_000 });
const envelope = new RowEnvelope({ keyring });
const row = await envelope.encryptRow({ table: 'users', values: { email: 'ada@example.com' } });
await envelope.decryptRow({ table: 'users', values: row.values, dataKey: row.dataKey });
await new Promise((resolve) => setTimeout(resolve, 100)); // past decryptMaxAge
down = true;
const plain = await envelope.decryptRow({ table: 'users', values: row.values, dataKey: row.dataKey });
if (plain.email !== 'ada@example.com') throw new Error('grace period did not serve the cached key');
if (refused === 0) throw new Error('the keyring was not asked again: the test proves nothing');
console.log('two copies of @fieldseal/core: KeyringError crosses them, grace period served the key: OK');
