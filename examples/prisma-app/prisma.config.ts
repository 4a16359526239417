// prisma.config.ts — Prisma 7 reads the schema's location and the database URL from here (the
// schema's datasource block no longer holds a URL). Copy it into your app and adjust the paths.
// The app itself connects through a driver adapter (src/db.ts); this URL is for the Prisma CLI
// (`prisma migrate`, `prisma studio`). The fieldseal generator in the schema needs nothing here.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    // e.g. postgresql://app@db.internal:5432/app in production; the example's SQLite file otherwise.
    url: process.env.DATABASE_URL ?? 'file:./.data/app.db',
  },
});
