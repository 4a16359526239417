/**
 * Values of this process (unwrapped branch keys, active versions), each kept for a fixed time
 * (TTL), with one fetch in flight per id: many rows and tenants asking at once cost one fetch.
 * Evicted keys are not zero-filled: a caller may still be between receiving a key and using it,
 * and wrapping under a wiped (all-zero) key would lose data; the garbage collector frees them.
 */
export class BranchKeyCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #inflight = new Map<string, Promise<V>>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
  ) {}

  /** The cached value of `id`, or the one `fetch` resolves to (fetched once however many ask). */
  async get(id: string, fetch: () => Promise<V>): Promise<V> {
    const entry = this.#entries.get(id);
    if (entry && entry.expires > Date.now()) return entry.value;
    if (entry) this.#entries.delete(id);
    const pending = this.#inflight.get(id);
    if (pending) return pending;
    const started = fetch().then(
      (value) => {
        this.#inflight.delete(id);
        this.set(id, value);
        return value;
      },
      (error: unknown) => {
        this.#inflight.delete(id);
        throw error;
      },
    );
    this.#inflight.set(id, started);
    return started;
  }

  /** Stores `value` for the TTL, evicting (and wiping) the oldest entry beyond `maxEntries`. */
  set(id: string, value: V): void {
    this.delete(id);
    this.#entries.set(id, { value, expires: Date.now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  /** Drops one entry. */
  delete(id: string): void {
    this.#entries.delete(id);
  }

  /** Drops every entry whose id `matches`. */
  deleteWhere(matches: (id: string) => boolean): void {
    for (const id of [...this.#entries.keys()]) if (matches(id)) this.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }
}
