/**
 * 8 concurrent workers creating, updating and reading the same rows through the Prisma adapter,
 * sharing one cold CachingKeyring (in front of a keyring with remote-like latency). Every
 * committed write is logged with the row version it produced; the final state must equal the
 * sequential model replaying the log in version order. A checker reads the raw rows all along:
 * no row may ever hold a value its own data key cannot open.
 */
import { CachingKeyring } from '@fieldseal/cache';
import { BlindIndex, LocalKeyring, RowEnvelope } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EncryptedClient,
  encryptedClient,
  openPrismaDb,
  PRISMA_DIALECTS,
  type PrismaDb,
} from './support/prisma-db.js';
import { SlowKeyring } from './support/slow-keyring.js';
import { scale } from './support/soak.js';

const WORKERS = 8;
const OPS_PER_WORKER = scale(60, 600);
const SEED_ROWS = 6;

interface Snapshot {
  email: string;
  ssn: string | null;
  photo: string | null; // hex
}
interface Committed {
  id: number;
  version: number;
  set: Partial<Snapshot>;
}

/** A small seeded PRNG, so a failing run can be replayed from the printed seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('hex') : null);

describe.each(PRISMA_DIALECTS)('8 concurrent workers on %s (Prisma, cold CachingKeyring)', (dialect) => {
  const master = LocalKeyring.fromString(LocalKeyring.generateKeyText('concurrency'));
  let db: PrismaDb;
  let cache: CachingKeyring;
  let workers: EncryptedClient[];
  beforeAll(async () => {
    db = await openPrismaDb(dialect);
    const blindIndexKey = await BlindIndex.generateKey(master);
    // Cold: nothing cached. 3 ms per keyring call makes concurrent misses overlap, as with KMS.
    cache = new CachingKeyring(new SlowKeyring(master, 3), { maxUses: 25 });
    // PostgreSQL: a client (connection pool) per worker, like separate app instances sharing a
    // cache in one process. SQLite takes one writer at a time: one client, which Prisma serializes.
    const shared = encryptedClient(db.client(), cache, blindIndexKey);
    workers = Array.from({ length: WORKERS }, () =>
      dialect === 'sqlite' ? shared : encryptedClient(db.client(), cache, blindIndexKey),
    );
  });
  afterAll(async () => {
    cache?.close();
    await db?.drop();
  });

  /** Raw check of every stored row: each non-null value is ciphertext and opens with the row's own key. */
  async function brokenRows(): Promise<number[]> {
    const envelope = new RowEnvelope({ keyring: master, readMode: 'strict' });
    const broken: number[] = [];
    for (const row of await db.rows()) {
      try {
        await envelope.decryptRow({
          table: 'Member',
          values: { email: row.email, ssn: row.ssn, photo: row.photo },
          dataKey: row.dataKey,
          rowId: row.id as number,
        });
      } catch {
        broken.push(row.id as number);
      }
    }
    return broken;
  }

  it('final state equals the sequential model of committed operations; misses coalesced; no row ever unreadable', async () => {
    const seed = Date.now() % 1_000_000;
    const log: Committed[] = [];
    const attempted = new Map<number, Set<string>>(); // every email ever sent for a row
    const ids: number[] = [];
    let reads = 0;
    let checks = 0;
    const checkerFindings: number[] = [];

    const record = (id: number, version: number, set: Partial<Snapshot>) => {
      log.push({ id, version, set });
    };
    const remember = (id: number, email: string) => {
      const set = attempted.get(id) ?? new Set<string>();
      attempted.set(id, set);
      set.add(email);
    };

    // The initial rows are created concurrently too: the cache is cold, so these misses overlap.
    await Promise.all(
      Array.from({ length: SEED_ROWS }, async (_, i) => {
        const worker = workers[i % WORKERS] as EncryptedClient;
        const email = `seed-${i}@concurrency.example`;
        const row = await worker.member.create({ data: { email, ssn: `seed-ssn-${i}` } });
        ids.push(row.id);
        remember(row.id, email);
        record(row.id, row.version, { email, ssn: `seed-ssn-${i}`, photo: null });
      }),
    );

    let running = true;
    const checker = (async () => {
      while (running) {
        checkerFindings.push(...(await brokenRows()));
        checks++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    await Promise.all(
      workers.map(async (client, w) => {
        const random = prng(seed + w);
        for (let n = 0; n < OPS_PER_WORKER; n++) {
          const roll = random();
          const id = ids[Math.floor(random() * ids.length)] as number;
          const tag = `w${w}-${n}`;
          if (roll < 0.15) {
            const email = `${tag}@concurrency.example`;
            const row = await client.member.create({ data: { email, ssn: null, photo: Buffer.from(tag) } });
            ids.push(row.id);
            remember(row.id, email);
            record(row.id, row.version, { email, ssn: null, photo: hex(Buffer.from(tag)) });
          } else if (roll < 0.6) {
            const data: { ssn?: string | null; email?: string; photo?: Uint8Array<ArrayBuffer> | null } = {};
            const set: Partial<Snapshot> = {};
            const what = random();
            if (what < 0.4) data.ssn = set.ssn = random() < 0.2 ? null : `ssn-${tag}`;
            else if (what < 0.7) {
              data.email = set.email = `${tag}@concurrency.example`;
              remember(id, data.email);
            } else {
              data.photo = Buffer.from(`photo-${tag}`);
              set.photo = hex(data.photo);
              data.ssn = set.ssn = `ssn+photo-${tag}`;
            }
            const row = await client.member.update({
              where: { id },
              data: { ...data, version: { increment: 1 } },
            });
            record(id, row.version, set);
          } else {
            const row = await client.member.findUnique({ where: { id } });
            reads++;
            expect(row, `row ${id}`).not.toBeNull();
            // A read returns some committed email of that row, never garbage.
            expect(attempted.get(id)?.has(row?.email as string), `row ${id} read ${row?.email}`).toBe(true);
          }
        }
      }),
    );
    running = false;
    await checker;

    // Replay the log in version order per row: the sequential model of what committed.
    const model = new Map<number, Snapshot>();
    for (const entry of [...log].sort((a, b) => a.id - b.id || a.version - b.version)) {
      const current = model.get(entry.id) ?? { email: '', ssn: null, photo: null };
      model.set(entry.id, { ...current, ...entry.set });
    }
    const versions = new Map<number, number[]>();
    for (const entry of log) versions.set(entry.id, [...(versions.get(entry.id) ?? []), entry.version]);
    for (const [id, list] of versions) {
      // Every committed write produced its own version: none lost, none applied twice.
      expect(new Set(list).size, `row ${id} versions`).toBe(list.length);
      expect(Math.max(...list)).toBe(list.length - 1);
    }

    const final = await (workers[0] as EncryptedClient).member.findMany({ orderBy: { id: 'asc' } });
    expect(final.length).toBe(model.size);
    for (const row of final) {
      expect({ email: row.email, ssn: row.ssn, photo: hex(row.photo) }, `row ${row.id}`).toEqual(
        model.get(row.id),
      );
    }
    expect(await brokenRows()).toEqual([]);
    expect(checkerFindings).toEqual([]);
    expect(checks).toBeGreaterThan(0);

    const stats = cache.stats();
    expect(stats.coalesced).toBeGreaterThan(0);
    expect(stats.keyringCalls.generate).toBeLessThan(ids.length);
    console.info(
      `[reliability figures] concurrency ${dialect} ${JSON.stringify({
        seed,
        workers: WORKERS,
        operations: WORKERS * OPS_PER_WORKER + SEED_ROWS,
        committedWrites: log.length,
        reads,
        rows: final.length,
        checkerPasses: checks,
        cache: {
          coalesced: stats.coalesced,
          generate: stats.keyringCalls.generate,
          decrypt: stats.keyringCalls.decrypt,
          hits: stats.hits,
        },
      })}`,
    );
  });
});
