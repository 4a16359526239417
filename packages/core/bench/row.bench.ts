/**
 * Per-call cost of the row envelope on the single-row path: one row of three encrypted text
 * columns (≈ 20–40 characters), bound to its row id, through `CachingKeyring` (defaults) over a
 * `LocalKeyring`, all cache hits after the first call — what one insert, one find and one update
 * of an adapter cost in core. Against a floor measured in the same run: the same three AES-256-GCM
 * operations through node:crypto with pooled IVs and a fixed key (no key derivation, no format).
 *
 *   pnpm --filter @fieldseal/core exec tsx bench/row.bench.ts [--rounds 7] [--ms 300] [--json out.json]
 *
 * Measures the compiled dist/ (build first). Median of the rounds after a warm-up round, cases
 * interleaved within each round. Reported in CPU microseconds per call (see `sample`).
 */
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { Keyring } from '../src/index.js';

const distUrl = new URL('../dist/index.js', import.meta.url);
if (!existsSync(distUrl)) throw new Error('Build core first (pnpm build); the bench measures dist/.');
const { LocalKeyring, RowEnvelope } = (await import(distUrl.href)) as typeof import('../src/index.js');
const cacheUrl = new URL('../../cache/dist/index.js', import.meta.url);
if (!existsSync(cacheUrl)) throw new Error('Build @fieldseal/cache first; the bench uses its dist/.');
const { CachingKeyring } = (await import(cacheUrl.href)) as {
  CachingKeyring: new (inner: Keyring) => Keyring & { close(): void };
};

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '300' },
    json: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const SAMPLE_MS = Number(args.ms);
const TABLE = 'users';
const row = {
  email: 'user-42@example.com',
  ssn: '042-45-0042',
  note: 'customer since 2017, prefers email contact',
};

const keyring = new CachingKeyring(LocalKeyring.fromString(LocalKeyring.generateKeyText('row-bench')));
const envelope = new RowEnvelope({ keyring });
const stored = await envelope.encryptRow({ table: TABLE, values: row, rowId: 42 });
const read = { table: TABLE, values: stored.values, dataKey: stored.dataKey, rowId: 42 };
const back = await envelope.decryptRow(read);
if (back.email !== row.email || back.note !== row.note) throw new Error('envelope does not round-trip');

// The floor: three AES-256-GCM encryptions (or decryptions) with a fixed key and pooled IVs.
const key = randomBytes(32);
const aad = Buffer.from('fieldseal\u0002\u0002users', 'latin1');
let pool = Buffer.alloc(0);
let at = 0;
const rawEncrypt = () => {
  const out = [];
  for (const value of Object.values(row)) {
    if (at + 12 > pool.length) {
      pool = randomFillSync(Buffer.allocUnsafe(12 * 512));
      at = 0;
    }
    const iv = pool.subarray(at, at + 12);
    at += 12;
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(aad);
    out.push(Buffer.concat([c.update(value, 'utf8'), c.final(), c.getAuthTag()]));
  }
  return out;
};
const sealed = rawEncrypt();
const iv = pool.subarray(at - 12, at);
const rawDecrypt = () =>
  sealed.map((body) => {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAAD(aad);
    d.setAuthTag(body.subarray(body.length - 16));
    try {
      return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]).toString('utf8');
    } catch {
      return undefined; // IVs differ per value here; the work is what is measured
    }
  });

// A thousand rows sharing the cached data key (each with its own salt), read in turn: every read
// is of a row not read just before, so no remembered row key helps.
const many: (typeof read)[] = [];
for (let i = 0; i < 1_000; i++) {
  const r = await envelope.encryptRow({ table: TABLE, values: row, rowId: i });
  many.push({ table: TABLE, values: r.values, dataKey: r.dataKey, rowId: i });
}
let turn = 0;

interface Case {
  readonly name: string;
  readonly op: () => unknown;
  readonly samples: number[];
}
const cases: Case[] = [
  { name: 'raw: 3 × AES-GCM encrypt', op: rawEncrypt, samples: [] },
  { name: 'raw: 3 × AES-GCM decrypt', op: rawDecrypt, samples: [] },
  {
    name: 'encryptRow (insert, 3 columns)',
    op: () => envelope.encryptRow({ table: TABLE, values: row, rowId: 42 }),
    samples: [],
  },
  { name: 'decryptRow (find, 3 columns)', op: () => envelope.decryptRow(read), samples: [] },
  { name: 'decryptRows (find, 1 row)', op: () => envelope.decryptRows([read]), samples: [] },
  {
    name: 'decryptRow (a different row each call)',
    op: () => envelope.decryptRow(many[turn++ % many.length] as typeof read),
    samples: [],
  },
  {
    name: 'encryptForRow (update, 1 column)',
    op: () =>
      envelope.encryptForRow({ table: TABLE, values: { note: 'moved' }, dataKey: stored.dataKey, rowId: 42 }),
    samples: [],
  },
];

/**
 * CPU microseconds (user + system, `process.cpuUsage`) per call over about SAMPLE_MS of wall
 * time, awaiting each call as a request would. CPU time rather than wall time: on a shared
 * machine the wall clock also counts the time other processes held the CPU.
 */
async function sample(c: Case): Promise<number> {
  let calls = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - started < SAMPLE_MS) {
    for (let i = 0; i < 200; i++) await c.op();
    calls += 200;
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / calls;
}

for (let round = 0; round <= ROUNDS; round++)
  for (const c of cases) {
    const us = await sample(c);
    if (round > 0) c.samples.push(us);
  }
keyring.close();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const report = cases.map((c) => ({ case: c.name, usPerCall: Number(median(c.samples).toFixed(2)) }));
console.log(
  `\nRow envelope, one row per call, µs (median of ${ROUNDS} rounds × ~${SAMPLE_MS} ms), Node ${process.version}`,
);
console.table(report);
if (args.json) {
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, `${JSON.stringify({ rounds: ROUNDS, node: process.version, report }, null, 2)}\n`);
}
