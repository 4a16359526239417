#!/usr/bin/env node
// Generates a Prisma Client and the fieldseal metadata from a models file, once per provider,
// through @fieldseal/prisma's own generator (its bin, so that package must be built first: turbo's
// `generate` tasks depend on it). Shared by every package whose tests or benchmarks need a
// generated client. Runs offline: `prisma generate` needs no schema engine, so
// PRISMA_SCHEMA_ENGINE_BINARY points at a no-op.
//
//   node ../../scripts/generate-prisma-clients.mjs --models test/fixtures/models.prisma \
//     --out test/generated --providers sqlite,postgresql [--flat] [--esm]
//
// Each provider's client goes to <out>/<provider> (or <out> itself with --flat and one provider).
// --esm emits ESM .ts files importing with .js suffixes, for packages that compile the client with tsc.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string' },
    out: { type: 'string' },
    providers: { type: 'string', default: 'sqlite' },
    flat: { type: 'boolean', default: false },
    esm: { type: 'boolean', default: false },
  },
});
if (!args.models || !args.out) {
  console.error(
    'usage: generate-prisma-clients.mjs --models <file> --out <dir> [--providers a,b] [--flat] [--esm]',
  );
  process.exit(2);
}
const providers = args.providers.split(',');
if (args.flat && providers.length !== 1) {
  console.error('--flat needs exactly one provider');
  process.exit(2);
}

// Resolved from the calling package, so each uses its own pinned prisma and @fieldseal/prisma.
const require = createRequire(join(process.cwd(), 'package.json'));
const prismaCli = require.resolve('prisma/build/index.js');
const generator = join(
  dirname(require.resolve('@fieldseal/prisma/package.json')),
  'bin',
  'fieldseal-prisma.js',
);
const models = readFileSync(resolve(args.models), 'utf8');
const clientGenerator = [
  'generator client {',
  '  provider = "prisma-client"',
  '  output   = "./client"',
  ...(args.esm
    ? [
        '  moduleFormat           = "esm"',
        '  importFileExtension    = "js"',
        '  generatedFileExtension = "ts"',
      ]
    : []),
  '}',
].join('\n');

for (const provider of providers) {
  const dir = args.flat ? resolve(args.out) : join(resolve(args.out), provider);
  mkdirSync(dir, { recursive: true });
  const schema = [
    clientGenerator,
    `generator fieldseal {\n  provider = "node ${JSON.stringify(generator).slice(1, -1)}"\n  output   = "./fieldseal"\n}`,
    `datasource db {\n  provider = "${provider}"\n}`,
    models,
  ].join('\n\n');
  writeFileSync(join(dir, 'schema.prisma'), schema);
  execFileSync(process.execPath, [prismaCli, 'generate', '--schema', join(dir, 'schema.prisma')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/true',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  });
}
