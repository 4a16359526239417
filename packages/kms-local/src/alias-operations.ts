import { toEpochSeconds } from './key-model.js';
import type { Operation } from './operation.js';
import { optionalString, paginate, requireString } from './request-fields.js';

const createAlias: Operation = (store, body) => {
  store.createAlias(requireString(body, 'AliasName'), requireString(body, 'TargetKeyId'));
  return {};
};

const deleteAlias: Operation = (store, body) => {
  store.deleteAlias(requireString(body, 'AliasName'));
  return {};
};

const listAliases: Operation = (store, body) => {
  const keyRef = optionalString(body, 'KeyId');
  const keyId = keyRef === undefined ? undefined : store.find(keyRef, false).keyId;
  const { page, ...rest } = paginate(body, store.listAliases(keyId));
  return {
    Aliases: page.map((alias) => ({
      AliasName: alias.name,
      AliasArn: store.aliasArn(alias.name),
      TargetKeyId: alias.targetKeyId,
      CreationDate: toEpochSeconds(alias.createdAt),
      LastUpdatedDate: toEpochSeconds(alias.updatedAt),
    })),
    ...rest,
  };
};

/** Alias operations, by name. */
export const ALIAS_OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateAlias: createAlias,
  DeleteAlias: deleteAlias,
  ListAliases: listAliases,
};
