import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDialects } from '../src/dialects.js';
import setup from '../src/global-setup.js';

const saved = { ...process.env };
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `//root@127.0.0.1:${(server.address() as { port: number }).port}/test`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
afterEach(() => {
  process.env = { ...saved };
  vi.restoreAllMocks();
});

describe('global setup', () => {
  it('reachable servers: nothing started, the URLs left as they are', async () => {
    process.env.FIELDSEAL_PG_URL = `postgresql:${url}`;
    process.env.FIELDSEAL_MYSQL_URL = `mysql:${url}`;
    delete process.env.FIELDSEAL_SKIP_DB;
    const teardown = await setup();
    expect(process.env.FIELDSEAL_PG_URL).toBe(`postgresql:${url}`);
    expect(process.env.FIELDSEAL_SKIP_DB_LOG).toBeUndefined();
    await teardown();
  });

  it('FIELDSEAL_SKIP_DB=1: test files keep only SQLite, and the teardown says loudly how many suites lost their databases', async () => {
    process.env.FIELDSEAL_SKIP_DB = '1';
    const teardown = await setup();
    expect(testDialects(['sqlite', 'postgres', 'mariadb'], ['sqlite'])).toEqual(['sqlite']);
    expect(testDialects(['sqlite', 'postgresql'], ['sqlite'])).toEqual(['sqlite']);
    expect(testDialects(['sqlite'], ['sqlite'])).toEqual(['sqlite']); // nothing lost: not counted
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await teardown();
    expect(warn).toHaveBeenCalledOnce();
    expect(String(warn.mock.calls[0]?.[0])).toMatch(
      /FIELDSEAL_SKIP_DB=1: PostgreSQL and MariaDB cases SKIPPED in 2 test suite/,
    );
  });

  it('without FIELDSEAL_SKIP_DB every dialect runs', () => {
    delete process.env.FIELDSEAL_SKIP_DB;
    expect(testDialects(['sqlite', 'postgres', 'mariadb'], ['sqlite'])).toEqual([
      'sqlite',
      'postgres',
      'mariadb',
    ]);
  });
});
