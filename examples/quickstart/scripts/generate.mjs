// `prisma generate` for the quickstart. Generating needs no schema engine, but the Prisma CLI
// tries to download one unless PRISMA_SCHEMA_ENGINE_BINARY names an executable; on machines
// without access to Prisma's binary host that variable is set to a no-op for this command only
// (never globally: `prisma migrate` would then silently do nothing).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = createRequire(join(root, 'package.json')).resolve('prisma/build/index.js');
execFileSync(process.execPath, [cli, 'generate', '--schema', join(root, 'prisma', 'schema.prisma')], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    // `provider = "fieldseal-prisma"` is the bin of @fieldseal/prisma; package scripts have it on PATH, plain `node` does not.
    PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/true',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
