import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { BANNER, startKmsServer } from '../src/index.js';
import { startServer } from './helpers.js';

describe('the server handle', () => {
  it('clientConfig makes a working KMSClient, a fresh object on every read', async () => {
    const server = await startServer({ region: 'ap-southeast-2' });
    expect(server.clientConfig).not.toBe(server.clientConfig);
    const client = new KMSClient(server.clientConfig);
    expect((await client.send(new ListKeysCommand({}))).Keys).toEqual([]);
    expect(await client.config.region()).toBe('ap-southeast-2');
    client.destroy();
  });

  it('binds 127.0.0.1 by default, warns for other addresses, and close() may be called twice', async () => {
    const warnings: string[] = [];
    const local = await startKmsServer({ port: 0, warn: (m) => warnings.push(m) });
    expect(local.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(warnings).toEqual([BANNER]);
    const open = await startKmsServer({ port: 0, host: '0.0.0.0', warn: (m) => warnings.push(m) });
    expect(warnings.join()).toMatch(/WARNING.*0\.0\.0\.0.*development and tests only/s);
    await Promise.all([local.close(), local.close(), open.close()]);
    await expect(fetch(`${local.endpoint}/__admin/health`)).rejects.toThrow();
  });

  it('answers GET / with what it is, and the admin health check', async () => {
    const server = await startServer();
    expect(await (await fetch(`${server.endpoint}/`)).json()).toMatchObject({
      service: 'fieldseal-kms-local',
    });
    const headers = { authorization: `Bearer ${server.token}` };
    expect(await (await fetch(`${server.endpoint}/__admin/health`, { headers })).json()).toEqual({
      ok: true,
    });
  });
});
