/**
 * Cost of the HMAC-SHA-256 work per row: 10,000 rows of three encrypted text columns with a
 * blind index on one, through `CachingKeyring` (defaults) over a `LocalKeyring`, all cache hits.
 *
 *   pnpm --filter @fieldseal/core bench:hmac [--rounds 7] [--only encryptRow] [--baseline <core dist>]
 *
 * Cases, each over the same 10,000 rows per round:
 * - encryptRow + blind index: `RowEnvelope.encryptRow` (a new row: new salt, v2 row key derived)
 *   and `BlindIndex.compute` of the email, as an adapter's insert does;
 * - decryptRow: each of 10,000 stored rows once, in turn (more than the 512 remembered row keys
 *   per data key, so every read derives its row key);
 * - deriveRowKey, blind index alone: the HMAC work on its own.
 * Reports CPU and wall milliseconds per 10,000 rows: the median of the rounds after a warm-up
 * round, cases interleaved within each round. `--only <prefix>` runs the cases whose name starts
 * so. `--baseline <dir>` also loads another build of core (e.g. main's `dist/` copied elsewhere:
 * `git worktree add`, build, `cp -r packages/core/dist /tmp/base`) and runs each case on it right
 * before the same case on this build, so load on a shared machine hits both alike.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Keyring } from '../src/index.js';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    rounds: { type: 'string', default: '7' },
    rows: { type: 'string', default: '10000' },
    baseline: { type: 'string' },
    only: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const ROWS = Number(args.rows);

const cacheUrl = new URL('../../cache/dist/index.js', import.meta.url);
if (!existsSync(cacheUrl)) throw new Error('Build @fieldseal/cache first; the bench uses its dist/.');
const { CachingKeyring } = (await import(cacheUrl.href)) as {
  CachingKeyring: new (inner: Keyring) => Keyring & { close(): void };
};

const TABLE = 'users';
const row = {
  email: 'user-42@example.com',
  ssn: '042-45-0042',
  note: 'customer since 2017, prefers email contact',
};
const emails = Array.from({ length: ROWS }, (_, i) => `user-${i}@example.com`);
const salts = Array.from({ length: ROWS }, () => new Uint8Array(randomBytes(16)));

interface Case {
  readonly name: string;
  readonly build: string;
  readonly run: () => Promise<unknown>;
  readonly wall: number[];
  readonly cpu: number[];
}

/** The cases on one build of core (its `dist/` directory). */
async function casesOf(build: string, dist: URL): Promise<{ cases: Case[]; close(): void }> {
  if (!existsSync(dist)) throw new Error(`No core build at ${dist.pathname}; build core first (pnpm build).`);
  const core = (await import(dist.href)) as typeof import('../src/index.js');
  const keyring = new CachingKeyring(
    core.LocalKeyring.fromString(core.LocalKeyring.generateKeyText('bench')),
  );
  const envelope = new core.RowEnvelope({ keyring });
  const index = await core.BlindIndex.open({
    keyring,
    wrappedKey: await core.BlindIndex.generateKey(keyring),
  });
  const stored: { table: string; values: Record<string, unknown>; dataKey: string; rowId: number }[] = [];
  for (let i = 0; i < ROWS; i++) {
    const r = await envelope.encryptRow({ table: TABLE, values: row, rowId: i });
    stored.push({ table: TABLE, values: r.values, dataKey: r.dataKey, rowId: i });
  }
  const back = await envelope.decryptRow(stored[7]!);
  if (back.email !== row.email || back.note !== row.note) throw new Error('envelope does not round-trip');
  const dataKey = new Uint8Array(randomBytes(32));
  const make = (name: string, run: () => Promise<unknown>): Case => ({ name, build, run, wall: [], cpu: [] });
  const cases = [
    make('encryptRow + blind index', async () => {
      for (let i = 0; i < ROWS; i++) {
        await envelope.encryptRow({ table: TABLE, values: row, rowId: i });
        index.compute(TABLE, 'email', emails[i]!);
      }
    }),
    make('decryptRow', async () => {
      for (let i = 0; i < ROWS; i++) await envelope.decryptRow(stored[i]!);
    }),
    make('deriveRowKey alone', async () => {
      for (let i = 0; i < ROWS; i++) core.deriveRowKey(dataKey, salts[i]!);
    }),
    make('blind index alone', async () => {
      for (let i = 0; i < ROWS; i++) index.compute(TABLE, 'email', emails[i]!);
    }),
  ];
  const only = args.only;
  return { cases: only ? cases.filter((c) => c.name.startsWith(only)) : cases, close: () => keyring.close() };
}

const builds = [await casesOf('this build', new URL('../dist/index.js', import.meta.url))];
if (args.baseline)
  builds.unshift(await casesOf('baseline', pathToFileURL(resolve(args.baseline, 'index.js'))));
const width = builds[0]!.cases.length;

for (let round = 0; round <= ROUNDS; round++)
  for (let i = 0; i < width; i++)
    for (const build of builds) {
      const c = build.cases[i]!;
      const cpu = process.cpuUsage();
      const started = performance.now();
      await c.run();
      const wall = performance.now() - started;
      const used = process.cpuUsage(cpu);
      if (round > 0) {
        c.wall.push(wall);
        c.cpu.push((used.user + used.system) / 1000);
      }
    }
for (const build of builds) build.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(`\nHMAC work per ${ROWS} rows, ms (median of ${ROUNDS} rounds), Node ${process.version}`);
console.table(
  builds.flatMap((build, b) =>
    build.cases.map((c, i) => {
      const base = b > 0 ? builds[0]!.cases[i] : undefined;
      return {
        case: c.name,
        build: c.build,
        cpuMs: Number(median(c.cpu).toFixed(1)),
        wallMs: Number(median(c.wall).toFixed(1)),
        usPerRow: Number(((median(c.cpu) * 1000) / ROWS).toFixed(2)),
        ...(base ? { vsBaseline: Number((median(c.cpu) / median(base.cpu)).toFixed(2)) } : {}),
      };
    }),
  ),
);
