// The packed-install test: what users install from npm, installed the way they install it.
// Packs every public package, `npm install`s the tarballs into a fresh app outside the workspace
// (npm, not pnpm) and runs there: a Prisma app (ESM), a TypeORM app (ESM and CommonJS), both on
// SQLite; per-tenant branch keys with a shredded tenant; `fieldseal --help`, `fieldseal status` and `fieldseal bench` without @fieldseal/bench;
// two installed copies of @fieldseal/core with the cache's decrypt grace period; and the number of
// packages `npm i @fieldseal/cli` adds to an empty folder.
//
// Run after a build: `pnpm test:packed`. The app's node_modules is kept in
// $FIELDSEAL_PACKED_CACHE (default ~/.cache/fieldseal-packed): the first run compiles
// better-sqlite3 from source (2-3 minutes here); later runs reinstall only the tarballs.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const cache = process.env.FIELDSEAL_PACKED_CACHE ?? join(homedir(), '.cache', 'fieldseal-packed');
const app = join(cache, 'app');
const tarballs = join(cache, 'tarballs');
const started = Date.now();

function run(command, args, cwd, env = {}) {
  const t = Date.now();
  console.log(`\n$ ${[command, ...args].join(' ')}   (in ${cwd})`);
  const out = execFileSync(command, args, {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(out);
  console.log(`  (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  return out;
}

/** pnpm: the one running this script when there is one, else the pinned one through npx. */
function pnpm(args, cwd) {
  const execPath = process.env.npm_execpath ?? '';
  return /pnpm/.test(execPath)
    ? run(process.execPath, [execPath, ...args], cwd)
    : run('npx', ['-y', 'pnpm@10.34.8', ...args], cwd);
}

// 1. Pack every public package (pnpm rewrites workspace: ranges to versions).
rmSync(tarballs, { recursive: true, force: true });
mkdirSync(tarballs, { recursive: true });
const publicPackages = readdirSync(join(root, 'packages')).filter(
  (name) => !JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')).private,
);
pnpm(
  [
    '-r',
    ...publicPackages.flatMap((name) => ['--filter', `./packages/${name}`]),
    'pack',
    '--pack-destination',
    tarballs,
  ],
  root,
);
const tgz = (name) => {
  const file = readdirSync(tarballs).find((f) => f.startsWith(`fieldseal-${name}-`) && f.endsWith('.tgz'));
  if (!file) throw new Error(`no tarball for @fieldseal/${name} in ${tarballs}`);
  return `file:${join(tarballs, file)}`;
};

// 2. The app: the fixture files, the tarballs (bench left out on purpose: it is optional) and the
// third-party packages a user installs beside them.
mkdirSync(app, { recursive: true });
cpSync(join(root, 'scripts', 'packed-app'), app, { recursive: true });
writeFileSync(
  join(app, 'package.json'),
  `${JSON.stringify(
    {
      name: 'fieldseal-packed-app',
      private: true,
      type: 'module',
      dependencies: {
        '@fieldseal/core': tgz('core'),
        '@fieldseal/cache': tgz('cache'),
        '@fieldseal/aws-kms': tgz('aws-kms'),
        '@fieldseal/prisma': tgz('prisma'),
        '@fieldseal/typeorm': tgz('typeorm'),
        '@fieldseal/cli': tgz('cli'),
        '@fieldseal/branch-keys': tgz('branch-keys'),
        '@prisma/client': '7.10.0',
        '@prisma/adapter-better-sqlite3': '7.10.0',
        'better-sqlite3': '^12.6.2',
        'reflect-metadata': '^0.2.2',
        typeorm: '~1.1.1',
      },
      devDependencies: { prisma: '7.10.0', tsx: '^4.23.15', '@fieldseal/kms-local': tgz('kms-local') },
      allowScripts: { 'better-sqlite3': true },
    },
    null,
    2,
  )}\n`,
);
// Fresh copies of our packages every run; everything else stays installed from the last run.
rmSync(join(app, 'node_modules', '@fieldseal'), { recursive: true, force: true });
rmSync(join(app, 'package-lock.json'), { force: true });
run('npm', ['install', '--no-audit'], app);

// 3. The apps.
const nodeBin = join(app, 'node_modules', '.bin');
const env = { PATH: `${nodeBin}:${process.env.PATH}`, APP_DATA_DIR: join(app, '.data') };
rmSync(join(app, '.data'), { recursive: true, force: true });
run(process.execPath, ['generate.mjs'], app, env);
const prismaOut = run(join(nodeBin, 'tsx'), ['prisma-app.ts'], app, env);
const esmOut = run(process.execPath, ['typeorm-app.mjs'], app, env);
const cjsOut = run(process.execPath, ['typeorm-app.cjs'], app, env);
const branchKeysOut = run(process.execPath, ['branch-keys-app.mjs'], app, env);
for (const [name, out] of [
  ['prisma', prismaOut],
  ['typeorm esm', esmOut],
  ['typeorm cjs', cjsOut],
  ['branch-keys', branchKeysOut],
]) {
  if (!out.includes('OK')) throw new Error(`the ${name} app did not print OK`);
}

// 4. The CLI as installed: help, status on the Prisma app's database, bench without its package.
const t = Date.now();
const help = run('npx', ['fieldseal', '--help'], app, env);
const helpSeconds = (Date.now() - t) / 1000;
if (!help.includes('migrate')) throw new Error('fieldseal --help printed no commands');
const status = run('npx', ['fieldseal', '--json', 'status'], app, env);
const report = JSON.parse(status);
const user = report.tables.find((table) => table.model === 'User');
if (user?.rows !== 2 || user.encrypted !== 2) throw new Error(`unexpected status: ${status}`);
const bench = spawnSync('npx', ['fieldseal', 'bench'], {
  cwd: app,
  env: { ...process.env, ...env },
  encoding: 'utf8',
});
if (bench.status !== 2 || !bench.stderr.includes('install @fieldseal/bench'))
  throw new Error(`fieldseal bench without @fieldseal/bench: exit ${bench.status}, ${bench.stderr}`);
console.log(`fieldseal bench without @fieldseal/bench: exit 2, ${bench.stderr.trim()}`);

// 5. Two installed copies of @fieldseal/core: the cache's grace period must still trigger.
const nested = join(app, 'node_modules', '@fieldseal', 'cache', 'node_modules', '@fieldseal', 'core');
mkdirSync(nested, { recursive: true });
cpSync(join(app, 'node_modules', '@fieldseal', 'core'), nested, { recursive: true });
run(process.execPath, ['two-copies.mjs'], app, env);

// 6. What `npm i @fieldseal/cli` adds to an empty folder (core is its peer, installed with it).
const lean = join(cache, 'cli-only');
rmSync(lean, { recursive: true, force: true });
mkdirSync(lean, { recursive: true });
writeFileSync(join(lean, 'package.json'), '{ "name": "cli-only", "private": true }\n');
run('npm', ['install', '--no-audit', tgz('cli').slice(5), tgz('core').slice(5)], lean);
const lock = JSON.parse(readFileSync(join(lean, 'package-lock.json'), 'utf8'));
// Installed ones only: the lockfile also lists every platform's optional esbuild binary.
const count = Object.keys(lock.packages).filter(
  (path) => path !== '' && existsSync(join(lean, path, 'package.json')),
).length;
if (!existsSync(join(lean, 'node_modules', '.bin', 'fieldseal'))) throw new Error('no fieldseal binary');
// The CLI runs with master-key and database credentials: every package it pulls in is trusted.
if (count >= 50) throw new Error(`npm i @fieldseal/cli adds ${count} packages (the bound is 50)`);
for (const heavy of [
  '@fieldseal/bench',
  '@fieldseal/kms-local',
  '@prisma/client',
  'typeorm',
  'better-sqlite3',
]) {
  if (existsSync(join(lean, 'node_modules', heavy)))
    throw new Error(`npm i @fieldseal/cli installs ${heavy}`);
}
run(join(lean, 'node_modules', '.bin', 'fieldseal'), ['--help'], lean);

console.log(`
packed-install test: OK in ${((Date.now() - started) / 1000).toFixed(0)} s
  npm i @fieldseal/cli (with its peer @fieldseal/core) adds ${count} packages
  npx fieldseal --help: ${helpSeconds.toFixed(2)} s (npx included)`);
