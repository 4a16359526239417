import { randomBytes, randomUUID } from 'node:crypto';

/** The states this server models (a subset of KMS's `KeyState`). */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

/** One version of a key's AES-256 material. New encryptions use the newest version. */
export interface KeyMaterialVersion {
  /** 1 for the original material, then 2, 3, … after each rotation. */
  readonly version: number;
  /** KMS's `KeyMaterialId`: 64 hex digits, random, not derived from the material. */
  readonly id: string;
  /** The 32-byte material, base64. Stored in the clear: this server is for development only. */
  readonly material: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/** A symmetric KMS key as this server stores it. */
export interface StoredKey {
  readonly keyId: string;
  readonly createdAt: number;
  description: string;
  readonly multiRegion: boolean;
  state: KeyState;
  /** Epoch milliseconds at which a key pending deletion disappears. */
  deletionDate?: number;
  pendingWindowInDays?: number;
  rotation: {
    enabled: boolean;
    periodInDays: number;
    /** Epoch milliseconds from which the next automatic rotation is counted. */
    since: number;
  };
  /** Oldest first; the last one is current. */
  materials: KeyMaterialVersion[];
}

/** An alias (`alias/…`) pointing at a key id. */
export interface StoredAlias {
  readonly name: string;
  targetKeyId: string;
  readonly createdAt: number;
  updatedAt: number;
}

/** The whole state, as written to the data file. */
export interface StoreSnapshot {
  readonly format: 'fieldseal-kms-local/1';
  readonly keys: readonly StoredKey[];
  readonly aliases: readonly StoredAlias[];
}

/**
 * Account id in every ARN: all zeros, which no AWS account has, so an ARN of this server is
 * never mistaken for a real key (nor for AWS's documentation examples).
 */
export const ACCOUNT_ID = '000000000000';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MRK = /^mrk-[0-9a-f]{32}$/;

/** True for a key id in KMS's shapes: a UUID, or `mrk-` and 32 hex digits for multi-Region keys. */
export function isKeyId(value: string): boolean {
  return UUID.test(value) || MRK.test(value);
}

/** A fresh key id; multi-Region keys get KMS's `mrk-` form. */
export function newKeyId(multiRegion: boolean): string {
  return multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID();
}

/** A fresh material version. */
export function newMaterial(version: number, now: number, material?: Buffer): KeyMaterialVersion {
  return {
    version,
    id: randomBytes(32).toString('hex'),
    material: (material ?? randomBytes(32)).toString('base64'),
    createdAt: now,
  };
}

/** A parsed `arn:aws:kms:<region>:<account>:key/<id>` or `…:alias/<name>`. */
export interface ParsedArn {
  readonly region: string;
  readonly account: string;
  readonly resource: string;
}

/** Parses a KMS ARN; `undefined` when `value` is not one. */
export function parseKmsArn(value: string): ParsedArn | undefined {
  const match = /^arn:aws[\w-]*:kms:([\w-]+):(\d{12}):((?:key|alias)\/.+)$/.exec(value);
  if (!match) return undefined;
  return { region: match[1] as string, account: match[2] as string, resource: match[3] as string };
}

/** Epoch milliseconds to KMS's wire timestamps (epoch seconds, fractional). */
export function toEpochSeconds(ms: number): number {
  return ms / 1000;
}

export const DAY_MS = 86_400_000;
