import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CachingKeyring } from '../src/index.js';
import { FakeClock, RecordingKeyring } from './helpers.js';

const contexts = [{ 'fieldseal:table': 'A' }, { 'fieldseal:table': 'B' }, { 'fieldseal:table': 'C' }];

const op = fc.oneof(
  fc.record({
    kind: fc.constant('generate' as const),
    ctx: fc.nat(2),
    bytes: fc.nat(300),
    encryptions: fc.integer({ min: 1, max: 4 }),
    parallel: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({
    kind: fc.constant('advance' as const),
    ms: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat(700)),
  }),
  fc.record({ kind: fc.constant('decrypt' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('purge' as const) }),
);

interface Usage {
  uses: number;
  bytes: number;
  encryptions: number;
  createdAt: number;
  maxSingleRequest: number;
}

describe('CachingKeyring bounds (property)', () => {
  it('no data key ever exceeds maxAge, maxUses or maxBytes, under any sequence of requests', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxAge: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 2000 })),
          maxUses: fc.integer({ min: 1, max: 25 }),
          maxBytes: fc.integer({ min: 1, max: 800 }),
          capacity: fc.integer({ min: 1, max: 4 }),
        }),
        fc.array(op, { minLength: 1, maxLength: 60 }),
        async (options, ops) => {
          const clock = new FakeClock();
          const inner = new RecordingKeyring(clock.now);
          const cache = new CachingKeyring(inner, { ...options, now: clock.now });
          const usage = new Map<Uint8Array, Usage>();
          const issued: Array<{ encryptedKey: Uint8Array; ctx: number }> = [];

          for (const step of ops) {
            if (step.kind === 'advance') clock.advance(step.ms);
            else if (step.kind === 'purge') cache.purgeExpired();
            else if (step.kind === 'decrypt') {
              const pick = issued[step.pick % Math.max(issued.length, 1)];
              if (!pick) continue;
              const key = await cache.decryptDataKey(pick.encryptedKey, contexts[pick.ctx]!);
              const original = inner.generated.find((g) => g.material.encryptedKey === pick.encryptedKey);
              expect(Buffer.from(key).equals(Buffer.from(original!.material.plaintextKey))).toBe(true);
            } else {
              const ctx = contexts[step.ctx]!;
              const hint = { plaintextBytes: step.bytes, encryptions: step.encryptions };
              const results = await Promise.all(
                Array.from({ length: step.parallel }, () => cache.generateDataKey(ctx, hint)),
              );
              const now = clock.now();
              for (const material of results) {
                let u = usage.get(material.encryptedKey);
                if (!u) {
                  const made = inner.generated.find((g) => g.material.encryptedKey === material.encryptedKey);
                  u = { uses: 0, bytes: 0, encryptions: 0, createdAt: made!.at, maxSingleRequest: 0 };
                  usage.set(material.encryptedKey, u);
                  issued.push({ encryptedKey: material.encryptedKey, ctx: step.ctx });
                }
                u.uses++;
                u.bytes += step.bytes;
                u.encryptions += step.encryptions;
                u.maxSingleRequest = Math.max(u.maxSingleRequest, step.bytes);
                expect(now - u.createdAt).toBeLessThan(options.maxAge);
              }
            }
          }
          for (const u of usage.values()) {
            expect(u.uses).toBeLessThanOrEqual(options.maxUses);
            if (u.maxSingleRequest > options.maxBytes)
              expect(u.uses).toBe(1); // oversized: a key used once
            else expect(u.bytes).toBeLessThanOrEqual(options.maxBytes);
          }
          const stats = cache.stats();
          expect(stats.keyringCalls.generate).toBe(inner.generated.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
