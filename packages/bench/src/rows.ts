/** The plaintext of one benchmark row: three encrypted columns and one plain one. */
export interface RowValues {
  readonly name: string;
  readonly email: string;
  readonly ssn: string | null;
  readonly note: string | null;
}

/** The table every workload writes to (and the encryption context of its data keys). */
export const TABLE = 'users';

/** Deterministic values for row `n`, so a read can be checked against what was written. */
export function rowValues(n: number): RowValues {
  return {
    name: `user ${n}`,
    email: `user${n}@example.com`,
    ssn: `${String(n % 1000).padStart(3, '0')}-45-${String(n % 10_000).padStart(4, '0')}`,
    note: n % 5 === 0 ? null : `customer since ${2000 + (n % 25)}, prefers email contact`,
  };
}

/** A small, fast, seeded PRNG (mulberry32), so every setting sees the same sequence of operations. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
