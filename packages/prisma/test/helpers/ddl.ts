/** Which database a test runs against; the Prisma provider of its generated client. */
export type DialectName = 'sqlite' | 'postgresql' | 'mysql';

// Hand-written DDL for fixtures/models.prisma (the schema engine cannot run offline here).
// Encrypted and data-key columns are TEXT: ciphertext is longer than the plaintext.
const TABLES: Record<DialectName, readonly string[]> = {
  sqlite: [
    'CREATE TABLE "User" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, "emailIndex" TEXT UNIQUE, "ssn" TEXT, "name" TEXT, "dataKey" TEXT)',
    'CREATE TABLE "Post" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "title" TEXT NOT NULL, "body" TEXT NOT NULL, "dataKey" TEXT, "authorId" INTEGER NOT NULL REFERENCES "User"("id") ON DELETE RESTRICT)',
    'CREATE TABLE "Comment" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "text" TEXT NOT NULL, "dataKey" TEXT, "postId" INTEGER NOT NULL REFERENCES "Post"("id") ON DELETE RESTRICT)',
    'CREATE TABLE "Profile" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "bio" TEXT, "avatar" BLOB, "dataKey" TEXT, "userId" INTEGER NOT NULL UNIQUE REFERENCES "User"("id") ON DELETE RESTRICT)',
    'CREATE TABLE "Audit" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "action" TEXT NOT NULL)',
    'CREATE TABLE "Invoice" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "tenantId" TEXT NOT NULL, "memo" TEXT NOT NULL, "note" TEXT, "dataKey" TEXT)',
    'CREATE TABLE "InvoiceLine" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "shard" INTEGER NOT NULL, "text" TEXT NOT NULL, "dataKey" TEXT, "invoiceId" INTEGER NOT NULL REFERENCES "Invoice"("id") ON DELETE RESTRICT)',
    'CREATE TABLE "Org" ("id" TEXT PRIMARY KEY)',
    'CREATE TABLE "Doc" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "orgId" TEXT NOT NULL REFERENCES "Org"("id") ON DELETE RESTRICT, "secret" TEXT NOT NULL, "dataKey" TEXT)',
  ],
  postgresql: [
    'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL, "emailIndex" TEXT UNIQUE, "ssn" TEXT, "name" TEXT, "dataKey" TEXT)',
    'CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "title" TEXT NOT NULL, "body" TEXT NOT NULL, "dataKey" TEXT, "authorId" INTEGER NOT NULL REFERENCES "User"("id"))',
    'CREATE TABLE "Comment" ("id" SERIAL PRIMARY KEY, "text" TEXT NOT NULL, "dataKey" TEXT, "postId" INTEGER NOT NULL REFERENCES "Post"("id"))',
    'CREATE TABLE "Profile" ("id" SERIAL PRIMARY KEY, "bio" TEXT, "avatar" BYTEA, "dataKey" TEXT, "userId" INTEGER NOT NULL UNIQUE REFERENCES "User"("id"))',
    'CREATE TABLE "Audit" ("id" SERIAL PRIMARY KEY, "action" TEXT NOT NULL)',
    'CREATE TABLE "Invoice" ("id" SERIAL PRIMARY KEY, "tenantId" TEXT NOT NULL, "memo" TEXT NOT NULL, "note" TEXT, "dataKey" TEXT)',
    'CREATE TABLE "InvoiceLine" ("id" SERIAL PRIMARY KEY, "shard" INTEGER NOT NULL, "text" TEXT NOT NULL, "dataKey" TEXT, "invoiceId" INTEGER NOT NULL REFERENCES "Invoice"("id"))',
    'CREATE TABLE "Org" ("id" TEXT PRIMARY KEY)',
    'CREATE TABLE "Doc" ("id" SERIAL PRIMARY KEY, "orgId" TEXT NOT NULL REFERENCES "Org"("id"), "secret" TEXT NOT NULL, "dataKey" TEXT)',
  ],
  mysql: [
    'CREATE TABLE `User` (`id` INT AUTO_INCREMENT PRIMARY KEY, `email` TEXT NOT NULL, `emailIndex` VARCHAR(64) UNIQUE, `ssn` TEXT, `name` VARCHAR(191), `dataKey` TEXT)',
    'CREATE TABLE `Post` (`id` INT AUTO_INCREMENT PRIMARY KEY, `title` VARCHAR(191) NOT NULL, `body` TEXT NOT NULL, `dataKey` TEXT, `authorId` INT NOT NULL, FOREIGN KEY (`authorId`) REFERENCES `User`(`id`))',
    'CREATE TABLE `Comment` (`id` INT AUTO_INCREMENT PRIMARY KEY, `text` TEXT NOT NULL, `dataKey` TEXT, `postId` INT NOT NULL, FOREIGN KEY (`postId`) REFERENCES `Post`(`id`))',
    'CREATE TABLE `Profile` (`id` INT AUTO_INCREMENT PRIMARY KEY, `bio` TEXT, `avatar` BLOB, `dataKey` TEXT, `userId` INT NOT NULL UNIQUE, FOREIGN KEY (`userId`) REFERENCES `User`(`id`))',
    'CREATE TABLE `Audit` (`id` INT AUTO_INCREMENT PRIMARY KEY, `action` VARCHAR(191) NOT NULL)',
    'CREATE TABLE `Invoice` (`id` INT AUTO_INCREMENT PRIMARY KEY, `tenantId` VARCHAR(191) NOT NULL, `memo` TEXT NOT NULL, `note` TEXT, `dataKey` TEXT)',
    'CREATE TABLE `InvoiceLine` (`id` INT AUTO_INCREMENT PRIMARY KEY, `shard` INT NOT NULL, `text` TEXT NOT NULL, `dataKey` TEXT, `invoiceId` INT NOT NULL, FOREIGN KEY (`invoiceId`) REFERENCES `Invoice`(`id`))',
    'CREATE TABLE `Org` (`id` VARCHAR(191) PRIMARY KEY)',
    'CREATE TABLE `Doc` (`id` INT AUTO_INCREMENT PRIMARY KEY, `orgId` VARCHAR(191) NOT NULL, `secret` TEXT NOT NULL, `dataKey` TEXT, FOREIGN KEY (`orgId`) REFERENCES `Org`(`id`))',
  ],
};

export function createTables(dialect: DialectName): readonly string[] {
  return TABLES[dialect];
}

/** Quotes an identifier for raw SQL in this dialect. */
export function quote(dialect: DialectName, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
}
