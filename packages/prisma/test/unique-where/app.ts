// A small app written the way the docs tell users to: every unique-key access by the encrypted
// `User.email` goes through the generated `userByEmail` helper, with no cast anywhere in this
// file. unique-where.test.ts compiles it with tsc (and checks it holds no cast) and runs it.
import { userByEmail } from '../generated/sqlite/fieldseal/unique.js';
import type { EncryptedClient } from '../helpers/fixture.js';

/** Signs a user up, or finds them again: upsert by email. */
export async function signUp(prisma: EncryptedClient, email: string, name: string) {
  return prisma.user.upsert({ where: userByEmail(email), create: { email, name }, update: { name } });
}

/** The profile page: findUnique by email, with the posts. */
export async function profile(prisma: EncryptedClient, email: string) {
  return prisma.user.findUnique({ where: userByEmail(email), include: { posts: true } });
}

/** The same, failing when the user does not exist. */
export async function profileOrThrow(prisma: EncryptedClient, email: string) {
  return prisma.user.findUniqueOrThrow({ where: userByEmail(email) });
}

/** Changes a user's SSN, addressed by email. */
export async function setSsn(prisma: EncryptedClient, email: string, ssn: string) {
  return prisma.user.update({ where: userByEmail(email), data: { ssn } });
}

/** A post by an existing author: connect by email. */
export async function publish(prisma: EncryptedClient, email: string, title: string, body: string) {
  return prisma.post.create({
    data: { title, body, author: { connect: userByEmail(email) } },
    include: { author: true },
  });
}

/** A post by an author who may not exist yet: connectOrCreate by email. */
export async function guestPost(prisma: EncryptedClient, email: string, title: string, body: string) {
  return prisma.post.create({
    data: { title, body, author: { connectOrCreate: { where: userByEmail(email), create: { email } } } },
    include: { author: true },
  });
}

/** Moves a post to another author, connecting by email inside an update. */
export async function reassign(prisma: EncryptedClient, postId: number, email: string) {
  return prisma.post.update({
    where: { id: postId },
    data: { author: { connect: userByEmail(email) } },
    include: { author: true },
  });
}

/** Closes an account: its posts, then the user, deleted by email. */
export async function closeAccount(prisma: EncryptedClient, email: string) {
  return prisma.$transaction(async (tx) => {
    await tx.post.deleteMany({ where: { author: { email } } });
    return tx.user.delete({ where: userByEmail(email) });
  });
}
