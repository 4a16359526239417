import { Command, InvalidArgumentError } from 'commander';
import { writeTenantOutputs } from '../output.js';
import { runTenantBench } from './run-tenant-bench.js';
import { formatTenantMarkdown } from './tenant-report.js';
import { TENANT_SETTINGS, type TenantSetting } from './tenant-settings.js';

interface TenantsCliOptions {
  processes: number;
  rows: number;
  tenants: number;
  settings: TenantSetting[];
  pgUrl?: string;
  out?: string;
  progress: boolean;
}

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
};
const settings = (value: string): TenantSetting[] => {
  const items = value.split(',').map((item) => item.trim()) as TenantSetting[];
  for (const item of items)
    if (!TENANT_SETTINGS.includes(item))
      throw new InvalidArgumentError(`expected some of ${TENANT_SETTINGS.join(', ')}`);
  return items;
};

/**
 * `bench tenants`: KMS calls per 1,000 rows and per instance when several app instances write
 * rows for many tenants, with the key hierarchy (branch keys per tenant, or one global) against
 * per-row KMS and `CachingKeyring`, in one run; real AWS SDK against kms-local, PostgreSQL.
 */
export function tenantsCommand(): Command {
  return new Command('tenants')
    .description(
      'KMS calls with many tenants: N processes write rows for T tenants through per-row KMS, CachingKeyring and branch keys (per tenant, global), then one process reads them; table and chart',
    )
    .option('--processes <n>', 'app instances writing at once', positive, 8)
    .option('--rows <n>', 'rows each instance writes', positive, 1000)
    .option('--tenants <n>', 'tenants the rows are spread over', positive, 100)
    .option('--settings <list>', TENANT_SETTINGS.join(','), settings, [...TENANT_SETTINGS])
    .option(
      '--pg-url <url>',
      'PostgreSQL server (default FIELDSEAL_PG_URL or postgres://postgres@127.0.0.1:5432/test)',
    )
    .option('--out <dir>', 'write tenants.json, tenants.md and bench-tenants.svg (and .png) here')
    .option('--no-progress', 'no progress lines on stderr')
    .action(async (options: TenantsCliOptions) => {
      const report = await runTenantBench({
        processes: options.processes,
        rowsPerProcess: options.rows,
        tenants: options.tenants,
        settings: options.settings,
        ...(options.pgUrl ? { pgUrl: options.pgUrl } : {}),
        ...(options.progress ? { onProgress: (m: string) => process.stderr.write(`[tenants] ${m}\n`) } : {}),
      });
      console.log(formatTenantMarkdown(report));
      if (options.out) {
        const files = await writeTenantOutputs(report, options.out);
        console.log(`\nWrote ${[files.json, files.markdown, ...files.svg, ...files.png].join(', ')}`);
      }
    });
}
