/**
 * Row-envelope throughput against raw node:crypto AES-256-GCM, in one process and one run.
 *
 *   pnpm bench                      (in packages/core)
 *   pnpm bench --rounds 11 --ms 300 --json bench-results/core-envelope.json
 *
 * Every case encrypts (or decrypts) one value per operation:
 * - raw:        createCipheriv per value, a fresh randomBytes(12) IV, setAAD, update, final,
 *               getAuthTag (decrypt: createDecipheriv, setAAD, setAuthTag, update, final). Strings
 *               are converted to and from UTF-8, as a real caller must; nothing is serialised.
 *               The target ratio is measured against this baseline.
 * - raw (pooled IV): the same, with IVs cut from one 6 KiB randomFillSync buffer as fieldseal
 *               does; shown for encryption only, as the tighter bound on pure cipher cost.
 * - fieldseal:  RowEnvelope.encryptRow / decryptRow of a one-column row (text form), with a warm
 *               data-key cache: either the in-bench keyring below, which hands back the same
 *               DataKeyMaterial object every call (the cache-hit path with zero cache overhead),
 *               or CachingKeyring from @fieldseal/cache when it can be loaded.
 * Each sample runs a case for about `--ms` milliseconds; the first round is a warm-up and is
 * dropped; the median of the remaining rounds is reported. Cases run interleaved per round so
 * drift (thermal, GC, other processes) hits all of them alike.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { DataKeyMaterial, EncryptionContext, Keyring, RowValues } from '../src/index.js';

// The compiled dist/ (what users run), not src/ through tsx: esbuild's keepNames wraps every
// closure in a __name() call, which costs several percent on the decrypt path.
const distUrl = new URL('../dist/index.js', import.meta.url);
if (!existsSync(distUrl)) throw new Error('Build core first (pnpm build); the bench measures dist/.');
const { LocalKeyring, RowEnvelope } = (await import(distUrl.href)) as typeof import('../src/index.js');

const { values: args } = parseArgs({
  // `pnpm bench -- --rounds 3` passes the `--` through; ignore it.
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '200' },
    json: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const SAMPLE_MS = Number(args.ms);
const SIZES = [16, 64, 1024] as const;
const TABLE = 'User';
const COLUMN = 'email';
const TARGET = 0.7;

/** The cache-hit path with no cache at all: the same material object, every call. */
class StaticKeyring implements Keyring {
  readonly name = 'bench-static';
  #material: DataKeyMaterial | undefined;
  #plaintextKey: Uint8Array | undefined;
  constructor(readonly inner: Keyring) {}
  async generateDataKey(context: EncryptionContext): Promise<DataKeyMaterial> {
    this.#material ??= await this.inner.generateDataKey(context);
    return this.#material;
  }
  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    this.#plaintextKey ??= await this.inner.decryptDataKey(encryptedKey, context);
    return this.#plaintextKey;
  }
}

interface CachingKeyringModule {
  CachingKeyring: new (
    inner: Keyring,
    options: { maxAge: number; maxUses: number },
  ) => Keyring & { close(): void };
}

async function loadCachingKeyring(
  inner: Keyring,
): Promise<{ keyring?: Keyring & { close(): void }; why?: string }> {
  try {
    // Not a devDependency: @fieldseal/cache depends on core, and turbo refuses the cycle.
    // Its dist/ imports @fieldseal/core, which resolves to this package's dist/: one core instance.
    const path = new URL('../../cache/dist/index.js', import.meta.url).href;
    const mod = (await import(path)) as CachingKeyringModule;
    return { keyring: new mod.CachingKeyring(inner, { maxAge: 3_600_000, maxUses: 2 ** 32 }) };
  } catch (error) {
    return { why: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error) };
  }
}

type Op = () => unknown;
interface Case {
  readonly name: string;
  readonly size: number;
  readonly direction: 'encrypt' | 'decrypt';
  readonly variant: string;
  readonly op: Op;
  readonly async: boolean;
  samples: number[];
}

function sampleValue(size: number): string {
  // ASCII, so `size` characters are `size` bytes; varied so nothing compresses or interns.
  return randomBytes(size).toString('base64').slice(0, size);
}

function rawCases(size: number): Case[] {
  const key = randomBytes(32);
  const aad = Buffer.from(`fieldseal\u0001\u0000${TABLE}${COLUMN}`, 'latin1');
  const plaintext = sampleValue(size);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  const encrypt: Op = () => {
    const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
    c.setAAD(aad);
    const out = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return [out, c.getAuthTag()];
  };
  const decrypt: Op = () => {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAAD(aad);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ciphertext), d.final()]).toString('utf8');
  };
  let pool = Buffer.alloc(0);
  let at = 0;
  const encryptPooled: Op = () => {
    if (at + 12 > pool.length) {
      pool = randomFillSync(Buffer.allocUnsafe(12 * 512));
      at = 0;
    }
    const iv = pool.subarray(at, at + 12);
    at += 12;
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(aad);
    const out = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return [out, c.getAuthTag()];
  };
  if (decrypt() !== plaintext) throw new Error('raw baseline does not round-trip');
  return [
    {
      name: `encrypt ${size} B`,
      size,
      direction: 'encrypt',
      variant: 'raw',
      op: encrypt,
      async: false,
      samples: [],
    },
    {
      name: `encrypt ${size} B`,
      size,
      direction: 'encrypt',
      variant: 'raw (pooled IV)',
      op: encryptPooled,
      async: false,
      samples: [],
    },
    {
      name: `decrypt ${size} B`,
      size,
      direction: 'decrypt',
      variant: 'raw',
      op: decrypt,
      async: false,
      samples: [],
    },
  ];
}

async function envelopeCases(size: number, variant: string, keyring: Keyring): Promise<Case[]> {
  const envelope = new RowEnvelope({ keyring });
  const plaintext = sampleValue(size);
  const values: RowValues = { [COLUMN]: plaintext };
  const stored = await envelope.encryptRow({ table: TABLE, values });
  const input = { table: TABLE, values: stored.values, dataKey: stored.dataKey };
  const back = await envelope.decryptRow(input);
  if (back[COLUMN] !== plaintext) throw new Error(`${variant} does not round-trip`);
  return [
    {
      name: `encrypt ${size} B`,
      size,
      direction: 'encrypt',
      variant,
      op: () => envelope.encryptRow({ table: TABLE, values }),
      async: true,
      samples: [],
    },
    {
      name: `decrypt ${size} B`,
      size,
      direction: 'decrypt',
      variant,
      op: () => envelope.decryptRow(input),
      async: true,
      samples: [],
    },
  ];
}

/** Runs `c` for about SAMPLE_MS and returns ops/s. Async ops are awaited one by one, as a request would. */
async function sample(c: Case): Promise<number> {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < SAMPLE_MS) {
    if (c.async) for (let i = 0; i < 256; i++) await c.op();
    else for (let i = 0; i < 256; i++) c.op();
    ops += 256;
    elapsed = performance.now() - start;
  }
  return (ops / elapsed) * 1000;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const local = LocalKeyring.fromString(`bench:${randomBytes(32).toString('base64')}`);
  const variants: [string, Keyring][] = [['fieldseal (static key)', new StaticKeyring(local)]];
  const caching = await loadCachingKeyring(local);
  if (caching.keyring) variants.push(['fieldseal (CachingKeyring)', caching.keyring]);

  const cases: Case[] = [];
  for (const size of SIZES) {
    cases.push(...rawCases(size));
    for (const [name, keyring] of variants) cases.push(...(await envelopeCases(size, name, keyring)));
  }

  console.log(`fieldseal core bench: node ${process.version}, ${process.platform}/${process.arch}`);
  console.log(`${ROUNDS} rounds x ~${SAMPLE_MS} ms per case (first round is warm-up), median ops/s`);
  if (!caching.keyring) console.log(`CachingKeyring not loaded (${caching.why}); static keyring only.`);

  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const c of cases) {
      const opsPerSecond = await sample(c);
      if (round > 0) c.samples.push(opsPerSecond);
    }
    process.stdout.write(round === 0 ? 'warm-up done' : ` ${round}`);
  }
  process.stdout.write('\n\n');

  const rows: { name: string; variant: string; opsPerSecond: number; ratio: number; spread: number }[] = [];
  for (const size of SIZES) {
    for (const direction of ['encrypt', 'decrypt'] as const) {
      const group = cases.filter((c) => c.size === size && c.direction === direction);
      const raw = median(group.find((c) => c.variant === 'raw')?.samples ?? []);
      for (const c of group) {
        const m = median(c.samples);
        const spread = (Math.max(...c.samples) - Math.min(...c.samples)) / m;
        rows.push({ name: c.name, variant: c.variant, opsPerSecond: m, ratio: m / raw, spread });
      }
    }
  }

  const width = Math.max(...rows.map((r) => r.variant.length));
  const max = Math.max(...rows.map((r) => r.opsPerSecond));
  let misses = 0;
  let lastName = '';
  for (const r of rows) {
    if (r.name !== lastName) console.log(r.name);
    lastName = r.name;
    const bar = '█'.repeat(Math.max(1, Math.round((r.opsPerSecond / max) * 40)));
    const isTarget = r.variant.startsWith('fieldseal') && r.name.match(/ (16|64) B$/);
    const verdict = !r.variant.startsWith('fieldseal')
      ? ''
      : r.ratio >= TARGET
        ? '  ok'
        : isTarget
          ? '  BELOW 0.7x TARGET'
          : '';
    if (isTarget && r.ratio < TARGET) misses++;
    console.log(
      `  ${r.variant.padEnd(width)} ${fmt(r.opsPerSecond).padStart(11)} ops/s  ${r.ratio.toFixed(2)}x  ±${(r.spread * 50).toFixed(0)}%  ${bar}${verdict}`,
    );
  }
  console.log(
    `\nTarget: fieldseal >= ${TARGET}x raw for 16-64 B values. ${misses === 0 ? 'Met.' : `Missed in ${misses} case(s).`}`,
  );

  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(
      args.json,
      `${JSON.stringify({ node: process.version, rounds: ROUNDS, sampleMs: SAMPLE_MS, rows }, null, 2)}\n`,
    );
  }
  if (caching.keyring) caching.keyring.close();
}

await main();
