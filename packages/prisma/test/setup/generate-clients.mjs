// Generates a Prisma Client and the fieldseal metadata for each test dialect, from
// fixtures/models.prisma, through the package's own generator (bin/fieldseal-prisma.js, so
// the package must be built first). Runs offline: no schema engine is needed to generate.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..', '..');
const prismaCli = createRequire(join(packageDir, 'package.json')).resolve('prisma/build/index.js');
const models = readFileSync(join(here, '..', 'fixtures', 'models.prisma'), 'utf8');
const generator = join(packageDir, 'bin', 'fieldseal-prisma.js');

for (const provider of ['sqlite', 'postgresql', 'mysql']) {
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
