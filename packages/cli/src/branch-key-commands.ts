import { createInterface } from 'node:readline/promises';
import { type Command, Option } from 'commander';
import type {
  BranchKeyInfoLike as BranchKeyInfo,
  BranchKeyStoreLike as BranchKeyStore,
  FieldsealConfig,
  ScopeMasterKeyLike,
} from './config.js';
import { CliError, EXIT } from './errors.js';

/** What the branch-key commands need from the program that registers them. */
export interface CommandContext {
  withConfig<T>(fn: (config: FieldsealConfig) => Promise<T>): Promise<T>;
  print(json: unknown, text: string): void;
  setExit(code: number): void;
  json(): boolean;
}

/** The config's branch-key store: `branchKeys`, or the store of a `BranchKeyKeyring` keyring. */
export function branchKeyStoreOf(config: FieldsealConfig): BranchKeyStore {
  const candidates = [config.branchKeys, (config.keyring as { store?: unknown }).store];
  for (const candidate of candidates) {
    const store = candidate as Partial<BranchKeyStore> | undefined;
    if (store && typeof store.rotate === 'function' && typeof store.shred === 'function')
      return store as BranchKeyStore;
  }
  throw new CliError(
    'invalid-config',
    'No branch-key store: set `keyring: new BranchKeyKeyring({ store })` or `branchKeys: store` in fieldseal.config.ts (see docs/tenants.md)',
  );
}

const scopeOption = () =>
  new Option('--tenant <id>', 'the tenant whose branch key to use (default: the global scope)');
const labelOf = (scope: string) => (scope === '' ? 'global' : `tenant ${scope}`);
const line = (k: BranchKeyInfo) =>
  `  ${labelOf(k.scope)}  v${k.version}  ${k.status}  wrapped by ${k.keyId}  created ${k.createdAt}`;

/** Adds `branch-key create | rotate | list` and `shred` to `program`. */
export function addBranchKeyCommands(program: Command, ctx: CommandContext): void {
  const branchKey = program
    .command('branch-key')
    .description('manage branch keys (fieldseal_branch_keys): per-tenant keys wrapped by KMS');

  branchKey
    .command('create')
    .description('create the key-store table if missing, and version 1 of a scope’s branch key')
    .addOption(scopeOption())
    .action(async (o) => {
      const created = await ctx.withConfig(async (config) => {
        const store = branchKeyStoreOf(config);
        await store.ensureTable();
        return store.create(o.tenant ?? '');
      });
      ctx.print(created, `created branch key:\n${line(created)}`);
      ctx.setExit(EXIT.ok);
    });

  branchKey
    .command('rotate')
    .description('add a new version (it becomes active; older versions stay readable)')
    .addOption(scopeOption())
    .option('--all', 'rotate every scope that is not shredded')
    .action(async (o) => {
      const rotated = await ctx.withConfig(async (config) => {
        const store = branchKeyStoreOf(config);
        if (!o.all) return [await store.rotate(o.tenant ?? '')];
        const scopes = new Set<string>();
        const shredded = new Set<string>();
        for (const key of await store.list()) (key.status === 'shredded' ? shredded : scopes).add(key.scope);
        const out: BranchKeyInfo[] = [];
        for (const scope of scopes) if (!shredded.has(scope)) out.push(await store.rotate(scope));
        return out;
      });
      ctx.print(
        { rotated },
        `rotated ${rotated.length} branch key(s); re-wrap rows onto the new versions with \`fieldseal rotate --to branch:active\`:\n${rotated.map(line).join('\n')}`,
      );
      ctx.setExit(EXIT.ok);
    });

  branchKey
    .command('list')
    .description('list branch keys; --verify unwraps each (one KMS call per key) and checks it')
    .addOption(scopeOption())
    .option('--verify', 'report each key as ok, shredded or damaged')
    .action(async (o) => {
      const keys = await ctx.withConfig(async (config) => {
        const store = branchKeyStoreOf(config);
        return o.verify ? store.check(o.tenant) : store.list(o.tenant);
      });
      const damaged = keys.filter((k) => (k as { state?: string }).state === 'damaged');
      const text = keys
        .map((k: BranchKeyInfo & { state?: string; problem?: string }) => {
          const state = k.state === undefined ? '' : `  ${k.state}${k.problem ? `: ${k.problem}` : ''}`;
          return `${line(k)}${state}`;
        })
        .join('\n');
      ctx.print({ keys, ok: damaged.length === 0 }, `branch keys:\n${text || '  (none)'}`);
      ctx.setExit(damaged.length === 0 ? EXIT.ok : EXIT.incomplete);
    });

  program
    .command('shred')
    .description("destroy a tenant's branch keys: its rows become unreadable for good (crypto-shredding)")
    .requiredOption('--tenant <id>', 'the tenant to erase')
    .option('--yes', 'do not ask for confirmation (scripts)')
    .option(
      '--no-schedule-key-deletion',
      "leave the tenant's own KMS key alone (by default its deletion is scheduled)",
    )
    .option('--pending-window-days <days>', 'days before KMS deletes the tenant’s own key, 7–30', '30')
    .action(async (o) => {
      const scope: string = o.tenant;
      const days = Number(o.pendingWindowDays);
      if (!Number.isInteger(days) || days < 7 || days > 30)
        throw new CliError('usage', '--pending-window-days must be a whole number from 7 to 30');
      const result = await ctx.withConfig(async (config) => {
        const store = branchKeyStoreOf(config);
        const live = (await store.list(scope)).filter((k) => k.status !== 'shredded');
        if (live.length === 0) return { destroyed: [] as BranchKeyInfo[], aborted: false, masterKeys: [] };
        const plan = planKeyDeletions((await store.masterKeysOf?.(scope)) ?? [], o.scheduleKeyDeletion);
        if (!o.yes) {
          if (ctx.json()) throw new CliError('usage', 'shred with --json needs --yes');
          process.stderr.write(
            `This destroys these branch keys; tenant ${scope}'s rows can never be read again:\n`,
          );
          process.stderr.write(`${live.map(line).join('\n')}\n`);
          for (const key of plan)
            process.stderr.write(
              key.action === 'schedule'
                ? `and schedules deletion of its own KMS key ${key.keyId} in ${days} days\n`
                : `and keeps KMS key ${key.keyId}: ${key.reason}\n`,
            );
          const answer = await ask(`Type the tenant id (${scope}) to confirm: `);
          if (answer.trim() !== scope)
            return { destroyed: [] as BranchKeyInfo[], aborted: true, masterKeys: [] };
        }
        const destroyed = await store.shred(scope);
        const masterKeys: MasterKeyOutcome[] = [];
        for (const { use, ...key } of plan) {
          if (key.action !== 'schedule') {
            masterKeys.push(key);
            continue;
          }
          try {
            const done = await (use.keyring.scheduleKeyDeletion as Schedule)(key.keyId, {
              pendingWindowInDays: days,
            });
            masterKeys.push({
              keyId: key.keyId,
              action: 'scheduled',
              deletionDate: done.deletionDate?.toISOString(),
              pendingWindowInDays: done.pendingWindowInDays,
            });
          } catch (error) {
            masterKeys.push({ keyId: key.keyId, action: 'failed', reason: (error as Error).message });
          }
        }
        return { destroyed, aborted: false, masterKeys };
      });
      if (result.aborted) {
        ctx.print({ ...result, tenant: scope }, 'aborted: nothing was destroyed');
        ctx.setExit(EXIT.incomplete);
        return;
      }
      const keyLines = result.masterKeys.map((k: MasterKeyOutcome) =>
        k.action === 'scheduled'
          ? `scheduled deletion of tenant ${scope}'s own KMS key ${k.keyId} on ${k.deletionDate ?? `+${k.pendingWindowInDays} days`} (aws kms cancel-key-deletion undoes it until then)`
          : k.action === 'failed'
            ? `could not schedule deletion of KMS key ${k.keyId}: ${k.reason} — the branch keys are destroyed; schedule it yourself`
            : `kept KMS key ${k.keyId}: ${k.reason}`,
      );
      ctx.print(
        { ...result, tenant: scope },
        result.destroyed.length === 0
          ? `tenant ${scope} has no live branch keys; nothing to destroy`
          : [
              `destroyed ${result.destroyed.length} branch key(s) of tenant ${scope}:`,
              ...result.destroyed.map(line),
              ...keyLines,
              'Backups taken before now still hold the wrapped keys (docs/tenants.md).',
            ].join('\n'),
      );
      ctx.setExit(
        result.masterKeys.some((k: MasterKeyOutcome) => k.action === 'failed') ? EXIT.incomplete : EXIT.ok,
      );
    });
}

type Schedule = NonNullable<ScopeMasterKeyLike['keyring']['scheduleKeyDeletion']>;

/** What `shred` did about one KMS key wrapping the tenant's branch keys. */
interface MasterKeyOutcome {
  readonly keyId: string;
  /** `kept`: shared, or the keyring cannot delete keys; `skipped`: --no-schedule-key-deletion. */
  readonly action: 'scheduled' | 'kept' | 'skipped' | 'failed';
  readonly reason?: string;
  readonly deletionDate?: string | undefined;
  readonly pendingWindowInDays?: number;
}

/** Which master keys to schedule for deletion: only a tenant's own, never a shared or global one. */
function planKeyDeletions(keys: readonly ScopeMasterKeyLike[], schedule: boolean) {
  return keys.map((use) => {
    const base = { use, keyId: use.keyId };
    if (use.sharedBecause !== undefined)
      return { ...base, action: 'kept' as const, reason: `shared, never deleted: ${use.sharedBecause}` };
    if (!schedule)
      return {
        ...base,
        action: 'skipped' as const,
        reason: 'the tenant’s own key; --no-schedule-key-deletion',
      };
    if (typeof use.keyring.scheduleKeyDeletion !== 'function')
      return {
        ...base,
        action: 'kept' as const,
        reason: `the tenant’s own key, but keyring ${use.keyring.name} cannot schedule deletion; delete it in your KMS`,
      };
    return { ...base, action: 'schedule' as const };
  });
}

/** One line from stdin (a TTY or a pipe). */
async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  try {
    process.stderr.write(question);
    for await (const answer of rl) return answer;
    return '';
  } finally {
    rl.close();
  }
}
