// The control for unique-where.test.ts: the same lookups without the helper do not compile, which
// is why the helper exists. Each line below must be a type error (the test counts them).
import type { EncryptedClient } from '../helpers/fixture.js';

export async function withoutHelper(prisma: EncryptedClient, email: string) {
  // @ts-expect-error email is not a unique field in Prisma's generated types
  await prisma.user.findUnique({ where: { email } });
  // @ts-expect-error the same for delete
  await prisma.user.delete({ where: { email } });
}
