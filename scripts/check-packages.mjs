// Checks the published shape of every public package: publint (strict) and Are The Types Wrong
// (ESM and CommonJS consumers). Run after a build: `pnpm check:packages`.
//
// attw's `cjs-resolves-to-esm` is ignored on purpose: the packages are ESM only, and every Node
// version they support (>=20.19) `require()`s an ES module through the `default` export condition
// (as does TypeScript >=5.8 with `module: node20`/`nodenext`). The packed-install test
// (`pnpm test:packed`) proves it with a CommonJS app.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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
if (failed.length) {
  console.error(`\ncheck:packages failed:\n  ${failed.join('\n  ')}`);
  process.exit(1);
}
console.log(`\ncheck:packages: ${packages.length} packages pass publint --strict and attw`);
