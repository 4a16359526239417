// Generates a Prisma Client and the fieldseal metadata per test dialect from
// fixtures/models.prisma, through @fieldseal/prisma's own generator (built first). Offline: no
// schema engine is needed to generate.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..', '..');
const require = createRequire(join(packageDir, 'package.json'));
const prismaCli = require.resolve('prisma/build/index.js');
const generator = join(
  dirname(require.resolve('@fieldseal/prisma/package.json')),
  'bin',
  'fieldseal-prisma.js',
);
const models = readFileSync(join(here, '..', 'fixtures', 'models.prisma'), 'utf8');

for (const provider of ['sqlite', 'postgresql']) {
  const dir = join(here, '..', 'generated', provider);
  mkdirSync(dir, { recursive: true });
  const schema = [
    'generator client {\n  provider = "prisma-client"\n  output   = "./client"\n}',
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
