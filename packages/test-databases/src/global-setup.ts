import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerAvailable, startContainers } from './containers.js';
import { type DatabaseName, decide } from './decide.js';
import { probe } from './probe.js';

/** The URLs the suites read, with the same defaults. */
export function databaseUrls(env: NodeJS.ProcessEnv = process.env): Record<DatabaseName, string> {
  return {
    postgres: env.FIELDSEAL_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test',
    mariadb: env.FIELDSEAL_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  };
}

const ENV_OF: Record<DatabaseName, string> = { postgres: 'FIELDSEAL_PG_URL', mariadb: 'FIELDSEAL_MYSQL_URL' };

/**
 * Vitest global setup of every package with database suites (`globalSetup` in its
 * vitest.config.ts). Probes PostgreSQL and MariaDB; starts missing ones in containers when
 * Docker answers; otherwise fails with one message naming the three ways to get databases.
 * Workers inherit the environment set here. Returns the teardown.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const urls = databaseUrls();
  const [postgres, mariadb] = await Promise.all([probe(urls.postgres), probe(urls.mariadb)]);
  const decision = await decide(
    {
      skipDb: process.env.FIELDSEAL_SKIP_DB === '1',
      reachable: { postgres, mariadb },
      docker: dockerAvailable,
    },
    urls,
  );
  if (decision.kind === 'fail') throw new Error(decision.message);
  if (decision.kind === 'use-servers') return async () => {};
  if (decision.kind === 'start-containers') {
    const started = await startContainers(decision.databases);
    for (const [db, url] of Object.entries(started.urls)) process.env[ENV_OF[db as DatabaseName]] = url;
    console.log(`fieldseal tests: started ${decision.databases.join(' and ')} in containers`);
    return () => started.stop();
  }
  const dir = mkdtempSync(join(tmpdir(), 'fieldseal-skip-db-'));
  const log = join(dir, 'skipped.log');
  process.env.FIELDSEAL_SKIP_DB_LOG = log;
  return async () => {
    let suites = 0;
    try {
      suites = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    } catch {
      // No suite of this package loops over database dialects.
    }
    rmSync(dir, { recursive: true, force: true });
    const bar = '!'.repeat(78);
    console.warn(
      `\n${bar}\n!! FIELDSEAL_SKIP_DB=1: PostgreSQL and MariaDB cases SKIPPED in ${suites} test suite(s) of ${process.cwd()}.\n!! This run proves SQLite only. Run without FIELDSEAL_SKIP_DB before you merge.\n${bar}\n`,
    );
  };
}
