// fieldseal + Prisma 7 in a small app: users with an encrypted email (looked up through a blind
// index) and SSN, posts with encrypted bodies. Run: pnpm --filter @fieldseal/example-prisma-app start
// `--check` runs the same story on a throwaway database and fails loudly if anything is off (CI).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsupportedOperationError } from '@fieldseal/prisma';
import { createClient, createTables } from './db.js';
import { loadKeys } from './keys.js';

const check = process.argv.includes('--check');
const dataDir = check
  ? mkdtempSync(join(tmpdir(), 'fieldseal-prisma-app-'))
  : join(import.meta.dirname, '..', '.data');
const file = join(dataDir, 'app.db');
const log = (...args: unknown[]) => {
  if (!check) console.log(...args);
};

const keys = await loadKeys(join(dataDir, 'dev-keys.json'));
createTables(file);
const { base, prisma } = createClient(file, keys);

try {
  const email = `ada.${Date.now()}@example.com`;
  // 1. Writes look like plain Prisma: nested create, encrypted fields in both models.
  const ada = await prisma.user.create({
    data: {
      email,
      ssn: '078-05-1120',
      name: 'Ada',
      posts: { create: [{ title: 'Notes', body: 'The engine weaves algebraic patterns.' }] },
    },
    include: { posts: true },
  });
  log('created', { id: ada.id, email: ada.email, ssn: ada.ssn, post: ada.posts[0]?.body });

  // 2. What the database holds: ciphertext, the row's wrapped data key, a keyed hash of the email.
  const [stored] = await base.$queryRaw<
    { email: string; ssn: string; emailIndex: string; dataKey: string }[]
  >`
    SELECT email, ssn, emailIndex, dataKey FROM "User" WHERE id = ${ada.id}`;
  log('stored  ', {
    email: `${stored?.email.slice(0, 28)}…`,
    emailIndex: stored?.emailIndex,
    dataKey: `${stored?.dataKey.slice(0, 20)}…`,
  });
  assert.match(stored?.email ?? '', /^fs2:/);
  assert.match(stored?.ssn ?? '', /^fs2:/);

  // 3. Lookup by email: rewritten to the blind-index column, no decryption of the table.
  const found = await prisma.user.findFirst({ where: { email }, include: { posts: true } });
  log('lookup  ', { name: found?.name, ssn: found?.ssn, posts: found?.posts.map((post) => post.body) });
  assert.equal(found?.ssn, '078-05-1120');
  assert.equal(found?.posts[0]?.body, 'The engine weaves algebraic patterns.');

  // 4. A partial update re-uses the row's data key (read in the same transaction).
  await prisma.$transaction(async (tx) => {
    await tx.user.update({
      where: { id: ada.id },
      data: { ssn: '078-05-1121', posts: { create: { title: 'More', body: 'A second body.' } } },
    });
  });
  const updated = await prisma.user.findUniqueOrThrow({
    where: { id: ada.id },
    select: { ssn: true, posts: { select: { body: true } } },
  });
  log('updated ', updated);
  assert.equal(updated.ssn, '078-05-1121');
  assert.equal(updated.posts.length, 2);

  // 5. Filters that would compare ciphertext are refused, never answered wrongly.
  const refused = await prisma.user
    .findMany({ where: { email: { contains: 'ada' } } })
    .catch((error: unknown) => error);
  assert.ok(refused instanceof UnsupportedOperationError);
  log('refused ', (refused as Error).message);

  // 6. The pitfall: querying through the client $extends was called on. It refuses instead of storing plaintext.
  const unprotected = await base.user
    .create({ data: { email: 'plain@example.com', name: 'Oops' } })
    .catch((error: unknown) => error);
  assert.ok(unprotected instanceof UnsupportedOperationError);
  log('pitfall ', (unprotected as Error).message);
  log(check ? '' : `\nDatabase: ${file}`);
} finally {
  await prisma.$disconnect();
  if (check) rmSync(dataDir, { recursive: true, force: true });
}
if (check) console.log('prisma-app check passed');
