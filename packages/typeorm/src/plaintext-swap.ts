type Saved = Array<readonly [property: string, had: boolean, value: unknown, managed: boolean]>;

/**
 * TypeORM reads what it writes from the entity object itself, so the subscriber must put
 * ciphertext *into the caller's object* before a write. This keeps what was there and puts
 * it back: after a successful write the plaintext returns (the data-key and blind-index
 * values written stay, as generated ids do); after a failed one everything returns, so a
 * retried `save()` sees plaintext again, never ciphertext.
 */
export class PlaintextSwap {
  readonly #saved = new WeakMap<object, Saved>();

  /**
   * Sets `encrypted` (ciphertext, restored after the write) and `managed` (data key, blind
   * indexes: kept after a successful write) on `entity`, remembering what was there.
   */
  swap(
    entity: object,
    encrypted: Readonly<Record<string, unknown>>,
    managed: Readonly<Record<string, unknown>>,
  ): void {
    const target = entity as Record<string, unknown>;
    let saved = this.#saved.get(entity);
    if (!saved) {
      saved = [];
      this.#saved.set(entity, saved);
    }
    const record = (values: Readonly<Record<string, unknown>>, managedValue: boolean) => {
      for (const property of Object.keys(values)) {
        if (!saved.some(([p]) => p === property))
          saved.push([property, Object.hasOwn(target, property), target[property], managedValue]);
        target[property] = values[property];
      }
    };
    record(encrypted, false);
    record(managed, true);
  }

  /** After a successful write: plaintext back, managed values kept. */
  settle(entity: object): void {
    this.#restore(entity, false);
  }

  /** After a failed write: everything back as it was. */
  rollback(entity: object): void {
    this.#restore(entity, true);
  }

  /**
   * Runs one manager call on `roots` (the entities or values passed to it). If it fails, every
   * entity reachable from them that was swapped and not settled — cascaded relations included
   * — is rolled back. The graph is walked only on failure, so success costs nothing. (No
   * AsyncLocalStorage: on Node 20 it enables promise hooks for the whole process.)
   */
  async run<T>(roots: unknown, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.#rollbackGraph(roots, new Set());
      throw error;
    }
  }

  #rollbackGraph(value: unknown, seen: Set<object>): void {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    if (value instanceof Date || value instanceof Uint8Array || ArrayBuffer.isView(value)) return;
    seen.add(value);
    this.rollback(value);
    for (const child of Array.isArray(value) ? value : Object.values(value)) this.#rollbackGraph(child, seen);
  }

  #restore(entity: object, all: boolean): void {
    const saved = this.#saved.get(entity);
    if (!saved) return;
    this.#saved.delete(entity);
    const target = entity as Record<string, unknown>;
    for (const [property, had, value, managed] of saved) {
      if (managed && !all) continue;
      if (had) target[property] = value;
      else delete target[property];
    }
  }
}
