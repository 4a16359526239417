import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterEach, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
});

/** Runs the CLI from source (through tsx) and waits for its "listening" line. */
async function run(args: string[]): Promise<{ child: ChildProcess; endpoint: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      stdout += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  return { child, endpoint, stderr: () => stderr };
}

describe('command line', () => {
  it('starts a server the SDK can use and stops on SIGTERM', async () => {
    const { child, endpoint } = await run(['--port', '0', '--region', 'eu-central-1']);
    const kms = new KMSClient({
      endpoint,
      region: 'eu-central-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    expect(KeyMetadata?.Arn).toMatch(/^arn:aws:kms:eu-central-1:/);
    kms.destroy();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('warns loudly when bound to an address other than loopback', async () => {
    const { stderr, endpoint } = await run(['--port', '0', '--host', '0.0.0.0']);
    expect(endpoint).toContain('0.0.0.0');
    expect(stderr()).toContain('WARNING');
    expect(stderr()).toContain('development and tests only');
  });

  it('prints the NOT FOR PRODUCTION banner; --token guards the admin API; --policy applies an IAM policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kms-local-cli-'));
    const policy = join(dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Action: 'kms:Encrypt',
            Resource: '*',
            Condition: { StringEquals: { 'kms:EncryptionContext:app': 'x' } },
          },
        ],
      }),
    );
    try {
      const token = 'cli-test-token-0123456789';
      const { endpoint, stderr } = await run(['--port', '0', '--token', token, '--policy', policy]);
      expect(stderr()).toContain('kms-local: NOT FOR PRODUCTION');
      expect((await fetch(`${endpoint}/__admin/stats`)).status).toBe(401);
      const ok = await fetch(`${endpoint}/__admin/stats`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      const kms = new KMSClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
      const encrypt = (app: string) =>
        kms.send(
          new EncryptCommand({
            KeyId: KeyMetadata?.Arn,
            Plaintext: Buffer.from('p'),
            EncryptionContext: { app },
          }),
        );
      await expect(encrypt('x')).resolves.toBeDefined();
      await expect(encrypt('y')).rejects.toMatchObject({ name: 'AccessDeniedException' });
      kms.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits with status 1 and a usage hint on a bad option', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--rate-limit', 'fast']);
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('--rate-limit');
  });
});
