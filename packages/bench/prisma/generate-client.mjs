// Generates the Prisma Client (SQLite) and the fieldseal metadata the Prisma workloads use, into
// src/generated/prisma (git-ignored), through @fieldseal/prisma's own generator, which must be
// built first (turbo's `generate` task depends on ^build). Runs offline: `prisma generate` needs
// no schema engine, so PRISMA_SCHEMA_ENGINE_BINARY points at a no-op.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const require = createRequire(join(packageDir, 'package.json'));
const prismaCli = require.resolve('prisma/build/index.js');
const generator = join(
  dirname(require.resolve('@fieldseal/prisma/package.json')),
  'bin',
  'fieldseal-prisma.js',
);
const out = join(packageDir, 'src', 'generated', 'prisma');
mkdirSync(out, { recursive: true });
const schema = [
  [
    'generator client {',
    '  provider               = "prisma-client"',
    '  output                 = "./client"',
    '  moduleFormat           = "esm"',
    '  importFileExtension    = "js"',
    '  generatedFileExtension = "ts"',
    '}',
  ].join('\n'),
  `generator fieldseal {\n  provider = "node ${JSON.stringify(generator).slice(1, -1)}"\n  output   = "./fieldseal"\n}`,
  'datasource db {\n  provider = "sqlite"\n}',
  readFileSync(join(here, 'schema.prisma'), 'utf8'),
].join('\n\n');
writeFileSync(join(out, 'schema.prisma'), schema);
execFileSync(process.execPath, [prismaCli, 'generate', '--schema', join(out, 'schema.prisma')], {
  cwd: out,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/true',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
