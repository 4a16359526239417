import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  KmsKeyringNode,
  NodeCachingMaterialsManager,
} from '@aws-crypto/client-node';
import { KMS } from '@aws-sdk/client-kms';
import type { KmsEnvironment } from '../kms-env.js';
import { type RowValues, TABLE } from '../rows.js';
import type { CacheSetting } from '../settings.js';
import { type BenchTarget, type TargetSession, tally } from './target.js';

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
// Key-committing like fieldseal, without the ECDSA signature of the ESDK's default suite (which
// fieldseal has no counterpart of and which costs a P-384 signature per message).
const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
const FIELDS = ['email', 'ssn', 'note'] as const;

interface StoredRow {
  readonly name: string;
  readonly fields: Record<(typeof FIELDS)[number], Buffer | null>;
  /** The ESDK message of one field carries its data key; kept to count rows per data key. */
  readonly dataKey: string;
}

/**
 * The AWS Encryption SDK for JavaScript (`@aws-crypto/client-node` 5) encrypting the same values
 * one field at a time: one ESDK message per non-null value, `KmsKeyringNode` on the same local
 * KMS (the aggregated `KMS` client of `@aws-sdk/client-kms`), behind `NodeCachingMaterialsManager`
 * with the setting's bounds (`maxMessagesEncrypted` = 3 × `maxUses`, since a row is up to three
 * messages) and a local cache of `capacity` entries. Rows kept in memory, like the core target.
 */
export class EsdkTarget implements BenchTarget {
  readonly name = 'esdk';
  readonly title = 'AWS Encryption SDK 5 (caching CMM, one message per field, in memory)';
  readonly encrypted = true;
  readonly #rows = new Map<number, StoredRow>();
  readonly #env: KmsEnvironment;
  readonly #kms: KMS;

  constructor(env: KmsEnvironment) {
    this.#env = env;
    this.#kms = new KMS({ ...env.server.clientConfig, maxAttempts: env.profile.maxAttempts });
  }

  async open(setting: CacheSetting): Promise<TargetSession> {
    const kms = this.#kms;
    const keyring = new KmsKeyringNode({
      generatorKeyId: this.#env.keyArn,
      clientProvider: () => kms as never,
    });
    const cache =
      setting.cache === false ? undefined : getLocalCryptographicMaterialsCache(setting.cache.capacity);
    const cmm =
      setting.cache === false || cache === undefined
        ? keyring
        : new NodeCachingMaterialsManager({
            backingMaterials: keyring,
            cache,
            maxAge: setting.cache.maxAge,
            maxMessagesEncrypted: setting.cache.maxUses * FIELDS.length,
            partition: 'fieldseal-bench',
          });
    const context = { 'fieldseal:table': TABLE };
    const start = this.#env.serverCounts();
    const rows = this.#rows;
    return {
      insert: async ({ name, ...values }: RowValues) => {
        const fields = { email: null, ssn: null, note: null } as StoredRow['fields'];
        let dataKey = '';
        for (const field of FIELDS) {
          const value = values[field];
          if (value === null) continue;
          const { result, messageHeader } = await encrypt(cmm, value, {
            encryptionContext: context,
            suiteId: SUITE,
          });
          fields[field] = result;
          dataKey ||= Buffer.from(messageHeader.encryptedDataKeys[0]?.encryptedDataKey ?? []).toString(
            'base64',
          );
        }
        const id = rows.size + 1;
        rows.set(id, { name, fields, dataKey });
        return id;
      },
      read: async (id) => {
        const row = rows.get(id);
        if (!row) throw new RangeError(`no row ${id}`);
        const out: Record<string, string | null> = {};
        for (const field of FIELDS) {
          const message = row.fields[field];
          out[field] = message === null ? null : (await decrypt(cmm, message)).plaintext.toString('utf8');
        }
        return { name: row.name, email: out.email as string, ssn: out.ssn ?? null, note: out.note ?? null };
      },
      counts: () => {
        const now = this.#env.serverCounts();
        const throttled = now.throttled - start.throttled;
        return {
          requests: now.requests - start.requests,
          throttledByServer: throttled,
          throttles: throttled, // the ESDK has no metrics hook: the server's count stands in
          retries: 0,
          failedCalls: 0,
        };
      },
      cacheCounts: () => undefined,
      close: async () => {},
    };
  }

  async lastId(): Promise<number> {
    return this.#rows.size;
  }

  async rowsPerKey(afterId: number): Promise<number[]> {
    return tally([...this.#rows].filter(([id]) => id > afterId).map(([, row]) => row.dataKey || null));
  }

  async dispose(): Promise<void> {
    this.#rows.clear();
    this.#kms.destroy();
  }
}
