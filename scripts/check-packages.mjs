// Checks the published shape of every public package: publint (strict) and Are The Types Wrong
// (ESM and CommonJS consumers). Run after a build: `pnpm check:packages`.
//
// attw's `cjs-resolves-to-esm` is ignored on purpose: the packages are ESM only, and every Node
// version they support (>=20.19) `require()`s an ES module through the `default` export condition
// (as does TypeScript >=5.8 with `module: node20`/`nodenext`). The packed-install test
// (`pnpm test:packed`) proves it with a CommonJS app.
//
// Then each package is packed as it is published (`pnpm pack`, which applies .pnpmfile.cjs) and its
// tarball checked: no monorepo `scripts` or `devDependencies` in the manifest, no `workspace:`
// range, a LICENSE, and a README whose links work on npm (absolute, none relative).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const packages = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name))
  .filter((dir) => !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private);

const failed = [];
for (const dir of packages) {
  for (const [tool, args] of [
    ['publint', ['--strict', '--pack', 'npm']],
    ['attw', ['--pack', '.', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'table-flipped']],
  ]) {
    const run = spawnSync(join(root, 'node_modules', '.bin', tool), args, { cwd: dir, stdio: 'inherit' });
    if (run.status !== 0) failed.push(`${tool} ${dir}`);
  }
}
/** What is wrong with one packed package (its tarball unpacked in `dir`), or an empty list. */
function packedProblems(dir) {
  const problems = [];
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const field of ['scripts', 'devDependencies']) {
    if (manifest[field] !== undefined) problems.push(`packed package.json has "${field}"`);
  }
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${name} is "${range}"`);
    }
  }
  for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md']) {
    if (!readdirSync(dir).includes(file)) problems.push(`no ${file} in the tarball`);
  }
  const readme = readdirSync(dir).includes('README.md') ? readFileSync(join(dir, 'README.md'), 'utf8') : '';
  for (const [, target] of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (!/^(https?:|mailto:|#)/.test(target))
      problems.push(`README link "${target}" is relative (dead on npm)`);
  }
  return problems;
}

// The pnpm running this script when there is one, else the pinned one through npx.
const execPath = process.env.npm_execpath ?? '';
const pnpm = /pnpm/.test(execPath) ? [process.execPath, [execPath]] : ['npx', ['-y', 'pnpm@10.34.8']];
const packs = mkdtempSync(join(tmpdir(), 'fieldseal-check-'));
try {
  for (const dir of packages) {
    const out = join(packs, dir.split('/').pop());
    execFileSync(pnpm[0], [...pnpm[1], 'pack', '--pack-destination', out], { cwd: dir, stdio: 'ignore' });
    const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'));
    execFileSync('tar', ['xzf', tarball], { cwd: out });
    const problems = packedProblems(join(out, 'package'));
    for (const problem of problems) failed.push(`packed ${dir}: ${problem}`);
  }
} finally {
  rmSync(packs, { recursive: true, force: true });
}

if (failed.length) {
  console.error(`\ncheck:packages failed:\n  ${failed.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `\ncheck:packages: ${packages.length} packages pass publint --strict and attw; packed manifests and READMEs are clean`,
);
