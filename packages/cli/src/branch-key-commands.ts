import { createInterface } from 'node:readline/promises';
import { type Command, Option } from 'commander';
import type {
  BranchKeyInfoLike as BranchKeyInfo,
  BranchKeyStoreLike as BranchKeyStore,
  FieldsealConfig,
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
    .action(async (o) => {
      const scope: string = o.tenant;
      const result = await ctx.withConfig(async (config) => {
        const store = branchKeyStoreOf(config);
        const live = (await store.list(scope)).filter((k) => k.status !== 'shredded');
        if (live.length === 0) return { destroyed: [] as BranchKeyInfo[], aborted: false };
        if (!o.yes) {
          if (ctx.json()) throw new CliError('usage', 'shred with --json needs --yes');
          process.stderr.write(
            `This destroys these branch keys; tenant ${scope}'s rows can never be read again:\n`,
          );
          process.stderr.write(`${live.map(line).join('\n')}\n`);
          const answer = await ask(`Type the tenant id (${scope}) to confirm: `);
          if (answer.trim() !== scope) return { destroyed: [] as BranchKeyInfo[], aborted: true };
        }
        return { destroyed: await store.shred(scope), aborted: false };
      });
      if (result.aborted) {
        ctx.print({ ...result, tenant: scope }, 'aborted: nothing was destroyed');
        ctx.setExit(EXIT.incomplete);
        return;
      }
      const masters = [...new Set(result.destroyed.map((k) => k.keyId))];
      ctx.print(
        { ...result, tenant: scope },
        result.destroyed.length === 0
          ? `tenant ${scope} has no live branch keys; nothing to destroy`
          : `destroyed ${result.destroyed.length} branch key(s) of tenant ${scope}:\n${result.destroyed.map(line).join('\n')}\nIf ${masters.join(', ')} is the tenant's own KMS key, schedule its deletion too. Backups taken before now still hold the wrapped keys (docs/tenants.md).`,
      );
      ctx.setExit(EXIT.ok);
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
