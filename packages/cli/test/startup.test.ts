import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './helpers/run-cli.js';

// `fieldseal --help` must start well under a second (issue 18): it may load the CLI itself,
// commander and core, never the operations, a database driver, an ORM, the AWS SDK, tsx (which
// loads .ts configs) or the optional packages. A module-loader hook records every module the
// built binary loads; wall time is printed but not asserted (the machines running this are shared).
const dir = mkdtempSync(join(tmpdir(), 'fs-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function loadedBy(args: readonly string[]): {
  urls: string[];
  stdout: string;
  status: number | null;
  ms: number;
} {
  const log = join(dir, `loaded-${args.join('-') || 'none'}.txt`);
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}
`,
  );
  writeFileSync(log, '');
  const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`;
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(register)}`, BIN, ...args],
    { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
  );
  const ms = Date.now() - started;
  return {
    urls: readFileSync(log, 'utf8').split('\n').filter(Boolean),
    stdout: run.stdout,
    status: run.status,
    ms,
  };
}

const FORBIDDEN = [
  '/dist/operations.js',
  '@prisma/',
  '/typeorm/',
  '/better-sqlite3/',
  '/pg/',
  '/mysql2/',
  '/mariadb/',
  '@aws-sdk/',
  '/tsx/',
  '/esbuild/',
  '/cli-progress/',
  '/kms-local/',
  '/bench/',
];

describe('fieldseal --help starts small', () => {
  it('loads the CLI, commander and core only: no operations, driver, ORM, AWS SDK, tsx or optional package', () => {
    const { urls, stdout, status, ms } = loadedBy(['--help']);
    expect(status).toBe(0);
    expect(stdout).toContain('migrate');
    // The hook saw the binary's own modules (else the test proves nothing).
    expect(urls.some((url) => url.endsWith('/dist/main.js'))).toBe(true);
    const heavy = urls.filter((url) => FORBIDDEN.some((part) => url.includes(part)));
    expect(heavy).toEqual([]);
    console.log(`fieldseal --help: ${ms} ms, ${urls.filter((u) => !u.startsWith('node:')).length} modules`);
  });
});
