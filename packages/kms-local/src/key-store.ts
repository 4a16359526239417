import {
  ACCOUNT_ID,
  DAY_MS,
  isKeyId,
  type KeyMaterialVersion,
  newKeyId,
  newMaterial,
  parseKmsArn,
  type StoredAlias,
  type StoredKey,
  type StoreSnapshot,
} from './key-model.js';
import { KmsError, notFound, validation } from './kms-error.js';

/** Options of a {@link KeyStore}. */
export interface KeyStoreOptions {
  /** Region written into ARNs. */
  readonly region: string;
  /** Clock, epoch milliseconds. */
  readonly now: () => number;
  /** Called after every change, e.g. to persist. */
  readonly onChange?: (snapshot: StoreSnapshot) => void;
}

/** What {@link KeyStore.createKey} accepts. */
export interface NewKey {
  readonly keyId?: string;
  readonly description?: string;
  readonly multiRegion?: boolean;
  readonly enabled?: boolean;
  /** 32 bytes of material, for reproducible fixtures; random when absent. */
  readonly material?: Buffer;
}

const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

/**
 * Keys and aliases, with the state rules of KMS: id/ARN/alias resolution, enable/disable,
 * scheduled deletion (the key disappears when its window ends), and rotation (old
 * material versions keep decrypting).
 */
export class KeyStore {
  readonly region: string;
  private readonly now: () => number;
  private readonly onChange: ((snapshot: StoreSnapshot) => void) | undefined;
  private readonly keys = new Map<string, StoredKey>();
  private readonly aliases = new Map<string, StoredAlias>();

  constructor(options: KeyStoreOptions, snapshot?: StoreSnapshot) {
    this.region = options.region;
    this.now = options.now;
    this.onChange = options.onChange;
    for (const key of snapshot?.keys ?? []) this.keys.set(key.keyId, structuredClone(key));
    for (const alias of snapshot?.aliases ?? []) this.aliases.set(alias.name, { ...alias });
  }

  keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${ACCOUNT_ID}:key/${keyId}`;
  }

  aliasArn(name: string): string {
    return `arn:aws:kms:${this.region}:${ACCOUNT_ID}:${name}`;
  }

  createKey(input: NewKey = {}): StoredKey {
    const keyId = input.keyId ?? newKeyId(input.multiRegion === true);
    if (!isKeyId(keyId)) throw validation(`Invalid key id '${keyId}'.`);
    if (this.keys.has(keyId)) throw new KmsError('AlreadyExistsException', `Key '${keyId}' already exists.`);
    if (input.material !== undefined && input.material.length !== 32) {
      throw validation('Key material must be 32 bytes.');
    }
    const now = this.now();
    const key: StoredKey = {
      keyId,
      createdAt: now,
      description: input.description ?? '',
      multiRegion: input.multiRegion === true,
      state: input.enabled === false ? 'Disabled' : 'Enabled',
      rotation: { enabled: false, periodInDays: 365, since: now },
      materials: [newMaterial(1, now, input.material)],
    };
    this.keys.set(keyId, key);
    this.changed();
    return key;
  }

  /**
   * Finds a key by id or key ARN, and — where KMS accepts them (`allowAlias`) — by alias name
   * or alias ARN. Throws `NotFoundException` otherwise.
   */
  find(ref: string, allowAlias: boolean): StoredKey {
    const arn = parseKmsArn(ref);
    if (arn && (arn.region !== this.region || arn.account !== ACCOUNT_ID)) {
      throw notFound(`Invalid arn ${ref}: this server holds keys of ${this.region}/${ACCOUNT_ID} only.`);
    }
    const resource = arn ? arn.resource : ref;
    let keyId: string | undefined;
    if (resource.startsWith('alias/')) {
      if (!allowAlias)
        throw notFound(`This operation does not accept an alias ('${ref}'); give a key id or key ARN.`);
      keyId = this.aliases.get(resource)?.targetKeyId;
      if (keyId === undefined) throw notFound(`Alias ${this.aliasArn(resource)} is not found.`);
    } else {
      keyId = arn ? resource.slice('key/'.length) : resource;
    }
    const key = this.byId(keyId);
    if (!key) throw notFound(`Key '${isKeyId(keyId) ? this.keyArn(keyId) : keyId}' does not exist`);
    return key;
  }

  /** A key by its id, after applying due deletions and automatic rotations. */
  byId(keyId: string): StoredKey | undefined {
    const key = this.keys.get(keyId);
    return key && this.refresh(key) ? key : undefined;
  }

  /** Throws what KMS throws when a disabled or deleting key is used for cryptography. */
  assertUsable(key: StoredKey): void {
    if (key.state === 'Disabled')
      throw new KmsError('DisabledException', `${this.keyArn(key.keyId)} is disabled.`);
    if (key.state === 'PendingDeletion') throw this.pendingDeletion(key);
  }

  pendingDeletion(key: StoredKey): KmsError {
    return new KmsError('KMSInvalidStateException', `${this.keyArn(key.keyId)} is pending deletion.`);
  }

  currentMaterial(key: StoredKey): KeyMaterialVersion {
    return key.materials[key.materials.length - 1] as KeyMaterialVersion;
  }

  materialVersion(key: StoredKey, version: number): KeyMaterialVersion | undefined {
    return key.materials.find((m) => m.version === version);
  }

  setEnabled(key: StoredKey, enabled: boolean): void {
    if (key.state === 'PendingDeletion') throw this.pendingDeletion(key);
    key.state = enabled ? 'Enabled' : 'Disabled';
    this.changed();
  }

  scheduleDeletion(key: StoredKey, days: number): void {
    if (key.state === 'PendingDeletion') throw this.pendingDeletion(key);
    key.state = 'PendingDeletion';
    key.pendingWindowInDays = days;
    key.deletionDate = this.now() + days * DAY_MS;
    this.changed();
  }

  /** KMS leaves a key whose deletion was cancelled disabled. */
  cancelDeletion(key: StoredKey): void {
    if (key.state !== 'PendingDeletion') {
      throw new KmsError('KMSInvalidStateException', `${this.keyArn(key.keyId)} is not pending deletion.`);
    }
    key.state = 'Disabled';
    delete key.deletionDate;
    delete key.pendingWindowInDays;
    this.changed();
  }

  setRotation(key: StoredKey, enabled: boolean, periodInDays?: number): void {
    this.assertUsable(key);
    key.rotation = {
      enabled,
      periodInDays: periodInDays ?? key.rotation.periodInDays,
      since: enabled && !key.rotation.enabled ? this.now() : key.rotation.since,
    };
    this.changed();
  }

  /** Adds a material version used for new encryptions; older versions keep decrypting. */
  rotate(key: StoredKey): KeyMaterialVersion {
    this.assertUsable(key);
    const material = newMaterial(this.currentMaterial(key).version + 1, this.now());
    key.materials.push(material);
    this.changed();
    return material;
  }

  listKeys(): StoredKey[] {
    return [...this.keys.values()].filter((key) => this.refresh(key));
  }

  createAlias(name: string, targetRef: string): void {
    if (!ALIAS_NAME.test(name) || name.startsWith('alias/aws/')) {
      throw new KmsError(
        'InvalidAliasNameException',
        `Alias name '${name}' is not valid (alias/<name>, not alias/aws/…).`,
      );
    }
    if (this.aliases.has(name))
      throw new KmsError(
        'AlreadyExistsException',
        `An alias with the name ${this.aliasArn(name)} already exists`,
      );
    const key = this.find(targetRef, false);
    if (key.state === 'PendingDeletion') throw this.pendingDeletion(key);
    const now = this.now();
    this.aliases.set(name, { name, targetKeyId: key.keyId, createdAt: now, updatedAt: now });
    this.changed();
  }

  deleteAlias(name: string): void {
    if (!this.aliases.delete(name)) throw notFound(`Alias ${this.aliasArn(name)} is not found.`);
    this.changed();
  }

  listAliases(keyId?: string): StoredAlias[] {
    this.listKeys();
    return [...this.aliases.values()].filter((alias) => keyId === undefined || alias.targetKeyId === keyId);
  }

  snapshot(): StoreSnapshot {
    return {
      format: 'fieldseal-kms-local/1',
      keys: [...this.keys.values()],
      aliases: [...this.aliases.values()],
    };
  }

  private changed(): void {
    this.onChange?.(this.snapshot());
  }

  /** Applies a due deletion (false: the key is gone) or a due automatic rotation. */
  private refresh(key: StoredKey): boolean {
    const now = this.now();
    if (key.state === 'PendingDeletion' && key.deletionDate !== undefined && now >= key.deletionDate) {
      this.keys.delete(key.keyId);
      for (const alias of this.aliases.values())
        if (alias.targetKeyId === key.keyId) this.aliases.delete(alias.name);
      this.changed();
      return false;
    }
    const rotation = key.rotation;
    if (
      rotation.enabled &&
      key.state === 'Enabled' &&
      now >= rotation.since + rotation.periodInDays * DAY_MS
    ) {
      key.materials.push(newMaterial(this.currentMaterial(key).version + 1, now));
      rotation.since = now;
      this.changed();
    }
    return true;
  }
}
