/** Entries kept: enough for a request's worth of loaded rows, small enough to never matter. */
const CAPACITY = 4096;

/**
 * The data-key column text of rows recently loaded, by table and row id. A write to one of
 * these rows uses it as its guess of the row's key and writes with one guarded statement
 * (`WHERE id AND key identity`); a wrong guess (the row was re-keyed, deleted, re-inserted)
 * misses the guard and the row protocol re-reads. So the cache can be stale without harm:
 * it saves a round trip, it never decides what is written.
 */
export class KnownKeys {
  readonly #entries = new Map<string, string | null>();

  /** Remembers a loaded row's data key. */
  remember(table: string, rowId: string | number, dataKey: string | null): void {
    const key = `${table}\u0000${rowId}`;
    this.#entries.delete(key);
    this.#entries.set(key, dataKey);
    if (this.#entries.size > CAPACITY) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** The remembered data key of a row (`null`: the row had none), or undefined when unknown. */
  get(table: string, rowId: string | number): string | null | undefined {
    return this.#entries.get(`${table}\u0000${rowId}`);
  }
}
