import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'fieldseal-bench.js');
const dir = mkdtempSync(join(tmpdir(), 'fieldseal-tenants-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fieldseal bench tenants (built binary, kms-local, PostgreSQL)', () => {
  it('counts KMS calls per setting in one run: per-row KMS one per row, branch keys bounded by processes × tenants whatever the row count; table, JSON and chart', async () => {
    const { stdout } = await run(
      process.execPath,
      [BIN, 'tenants', '--processes', '3', '--rows', '150', '--tenants', '4', '--out', dir, '--no-progress'],
      { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
    );
    const report = JSON.parse(readFileSync(join(dir, 'tenants.json'), 'utf8'));
    expect(report).toMatchObject({ processes: 3, rowsPerProcess: 150, rows: 450, tenants: 4 });
    const by = Object.fromEntries(report.results.map((r: { setting: string }) => [r.setting, r])) as Record<
      string,
      { writeCalls: number; readCalls: number; writeCallsPer1000Rows: number; writeCallsPerInstance: number }
    >;
    expect(Object.keys(by)).toEqual(['per-row', 'caching', 'branch-tenant', 'branch-global']);
    // Per-row KMS: a GenerateDataKey per row written, a Decrypt per row read.
    expect(by['per-row']).toMatchObject({ writeCalls: 450, readCalls: 450, writeCallsPer1000Rows: 1000 });
    // Branch keys: per process, at most a create (or a lost race) and an unwrap per scope — never per row.
    expect(by['branch-tenant']?.writeCalls).toBeGreaterThanOrEqual(4);
    expect(by['branch-tenant']?.writeCalls).toBeLessThanOrEqual(2 * 3 * 4);
    expect(by['branch-tenant']?.readCalls).toBe(4); // one fresh reader: one unwrap per tenant
    expect(by['branch-global']?.writeCalls).toBeLessThanOrEqual(2 * 3);
    expect(by['branch-global']?.readCalls).toBe(1);
    expect(by['branch-tenant']?.writeCallsPerInstance).toBeCloseTo(
      (by['branch-tenant']?.writeCalls ?? 0) / 3,
    );
    expect(stdout).toContain('| branch keys, one per tenant |');
    expect(readFileSync(join(dir, 'tenants.md'), 'utf8')).toContain('per 1,000 rows');
    expect(readFileSync(join(dir, 'bench-tenants.svg'), 'utf8')).toMatch(
      /^<svg[\s\S]*branch keys, one global/,
    );
  }, 180_000);
});
