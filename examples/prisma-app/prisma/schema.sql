-- The tables of prisma/schema.prisma for SQLite. With Prisma's schema engine available you
-- would run `prisma migrate dev` instead; encrypted columns just need room for ciphertext.
CREATE TABLE IF NOT EXISTS "User" (
  "id"         INTEGER PRIMARY KEY AUTOINCREMENT,
  "email"      TEXT NOT NULL,
  "emailIndex" TEXT UNIQUE,
  "ssn"        TEXT,
  "name"       TEXT NOT NULL,
  "dataKey"    TEXT
);
CREATE TABLE IF NOT EXISTS "Post" (
  "id"        INTEGER PRIMARY KEY AUTOINCREMENT,
  "title"     TEXT NOT NULL,
  "body"      TEXT NOT NULL,
  "dataKey"   TEXT,
  "authorId"  INTEGER NOT NULL REFERENCES "User"("id"),
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
