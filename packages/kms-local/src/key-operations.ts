import { ACCOUNT_ID, DAY_MS, type StoredKey, toEpochSeconds } from './key-model.js';
import type { KeyStore } from './key-store.js';
import { KmsError } from './kms-error.js';
import type { Operation } from './operation.js';
import {
  optionalBoolean,
  optionalInteger,
  optionalString,
  paginate,
  requireString,
} from './request-fields.js';

/** `KeyMetadata` as KMS returns it for a symmetric encryption key. */
export function keyMetadata(store: KeyStore, key: StoredKey): Record<string, unknown> {
  const arn = store.keyArn(key.keyId);
  return {
    AWSAccountId: ACCOUNT_ID,
    KeyId: key.keyId,
    Arn: arn,
    CreationDate: toEpochSeconds(key.createdAt),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: key.state,
    ...(key.deletionDate === undefined ? {} : { DeletionDate: toEpochSeconds(key.deletionDate) }),
    ...(key.pendingWindowInDays === undefined
      ? {}
      : { PendingDeletionWindowInDays: key.pendingWindowInDays }),
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: key.multiRegion,
    ...(key.multiRegion
      ? {
          MultiRegionConfiguration: {
            MultiRegionKeyType: 'PRIMARY',
            PrimaryKey: { Arn: arn, Region: store.region },
            ReplicaKeys: [],
          },
        }
      : {}),
    CurrentKeyMaterialId: store.currentMaterial(key).id,
  };
}

function unsupported(body: Record<string, unknown>, member: string, allowed: string): void {
  const value = optionalString(body, member);
  if (value !== undefined && value !== allowed) {
    throw new KmsError(
      'UnsupportedOperationException',
      `kms-local supports ${member} ${allowed} only, not ${value}.`,
    );
  }
}

const createKey: Operation = (store, body) => {
  unsupported(body, 'KeySpec', 'SYMMETRIC_DEFAULT');
  unsupported(body, 'CustomerMasterKeySpec', 'SYMMETRIC_DEFAULT');
  unsupported(body, 'KeyUsage', 'ENCRYPT_DECRYPT');
  unsupported(body, 'Origin', 'AWS_KMS');
  const description = optionalString(body, 'Description');
  if (description !== undefined && description.length > 8192) {
    throw new KmsError('ValidationException', 'Description must be at most 8192 characters.');
  }
  const key = store.createKey({
    ...(description === undefined ? {} : { description }),
    multiRegion: optionalBoolean(body, 'MultiRegion') === true,
  });
  return { KeyMetadata: keyMetadata(store, key) };
};

const describeKey: Operation = (store, body) => ({
  KeyMetadata: keyMetadata(store, store.find(requireString(body, 'KeyId'), true)),
});

const listKeys: Operation = (store, body) => {
  const { page, ...rest } = paginate(body, store.listKeys());
  return { Keys: page.map((key) => ({ KeyId: key.keyId, KeyArn: store.keyArn(key.keyId) })), ...rest };
};

const enableKey: Operation = (store, body) => {
  store.setEnabled(store.find(requireString(body, 'KeyId'), false), true);
  return {};
};

const disableKey: Operation = (store, body) => {
  store.setEnabled(store.find(requireString(body, 'KeyId'), false), false);
  return {};
};

const scheduleKeyDeletion: Operation = (store, body) => {
  const key = store.find(requireString(body, 'KeyId'), false);
  const days = optionalInteger(body, 'PendingWindowInDays', 7, 30) ?? 30;
  store.scheduleDeletion(key, days);
  return {
    KeyId: store.keyArn(key.keyId),
    DeletionDate: toEpochSeconds(key.deletionDate as number),
    KeyState: key.state,
    PendingWindowInDays: days,
  };
};

const cancelKeyDeletion: Operation = (store, body) => {
  const key = store.find(requireString(body, 'KeyId'), false);
  store.cancelDeletion(key);
  return { KeyId: store.keyArn(key.keyId) };
};

const enableKeyRotation: Operation = (store, body) => {
  const key = store.find(requireString(body, 'KeyId'), false);
  store.setRotation(key, true, optionalInteger(body, 'RotationPeriodInDays', 90, 2560));
  return {};
};

const disableKeyRotation: Operation = (store, body) => {
  store.setRotation(store.find(requireString(body, 'KeyId'), false), false);
  return {};
};

const getKeyRotationStatus: Operation = (store, body) => {
  const key = store.find(requireString(body, 'KeyId'), false);
  const { enabled, periodInDays, since } = key.rotation;
  return {
    KeyId: store.keyArn(key.keyId),
    KeyRotationEnabled: enabled,
    ...(enabled
      ? {
          RotationPeriodInDays: periodInDays,
          NextRotationDate: toEpochSeconds(since + periodInDays * DAY_MS),
        }
      : {}),
  };
};

const rotateKeyOnDemand: Operation = (store, body) => {
  const key = store.find(requireString(body, 'KeyId'), false);
  store.rotate(key);
  return { KeyId: key.keyId };
};

/** Key management operations, by name. */
export const KEY_OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  ListKeys: listKeys,
  EnableKey: enableKey,
  DisableKey: disableKey,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  CancelKeyDeletion: cancelKeyDeletion,
  EnableKeyRotation: enableKeyRotation,
  DisableKeyRotation: disableKeyRotation,
  GetKeyRotationStatus: getKeyRotationStatus,
  RotateKeyOnDemand: rotateKeyOnDemand,
};
