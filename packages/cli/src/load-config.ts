import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type FieldsealConfig, validateConfig } from './config.js';
import { CliError, detailOf } from './errors.js';

/** File names looked for in the working directory, in this order. */
export const CONFIG_FILES = [
  'fieldseal.config.ts',
  'fieldseal.config.mts',
  'fieldseal.config.js',
  'fieldseal.config.mjs',
] as const;

/** Finds the config file: `explicit` (the `--config` option) or the first of {@link CONFIG_FILES} in `cwd`. */
export function findConfig(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit !== undefined) {
    const path = isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
    if (!existsSync(path)) throw new CliError('config-not-found', `Config file ${path} does not exist`);
    return path;
  }
  for (const name of CONFIG_FILES) {
    const path = resolve(cwd, name);
    if (existsSync(path)) return path;
  }
  throw new CliError(
    'config-not-found',
    `No ${CONFIG_FILES.join(', ')} in ${cwd}; run "fieldseal init" or pass --config <path>`,
  );
}

/**
 * Imports a config file and validates it. TypeScript configs are loaded through tsx's
 * `tsImport` (no build step, works on Node 20); `.js`/`.mjs` are plain imports.
 */
export async function loadConfig(path: string): Promise<FieldsealConfig> {
  let module: { default?: unknown };
  try {
    if (/\.[mc]?ts$/.test(path)) {
      const { tsImport } = await import('tsx/esm/api');
      module = (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown };
    } else {
      module = (await import(pathToFileURL(path).href)) as { default?: unknown };
    }
  } catch (cause) {
    const detail = detailOf(cause, 1);
    throw new CliError('invalid-config', `Cannot load config file ${path}: ${detail}`, { cause });
  }
  // tsx may wrap a CommonJS-shaped default one level deeper.
  let exported = module.default;
  if (exported && typeof exported === 'object' && 'default' in exported && !('executor' in exported))
    exported = (exported as { default: unknown }).default;
  if (exported === undefined)
    throw new CliError(
      'invalid-config',
      `${path} has no default export; use export default defineConfig({...})`,
    );
  let config: unknown = exported;
  if (typeof exported === 'function') {
    try {
      config = await (exported as () => unknown)();
    } catch (cause) {
      const detail = detailOf(cause, 1);
      throw new CliError('invalid-config', `The config function in ${path} failed: ${detail}`, { cause });
    }
  }
  return validateConfig(config, path);
}
