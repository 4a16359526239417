/**
 * kms-local must not hand keys to a web page or another machine (security review, finding 5):
 * Host and Origin checks against DNS rebinding, a token for the admin API and for requests not
 * from loopback, an ARN account no AWS account has, and a "not for production" banner.
 */
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { BANNER, type KmsServer, startKmsServer } from '../src/index.js';
import { clientFor, createKey, startServer } from './helpers.js';

interface Answer {
  readonly status: number;
  readonly text: string;
}

/** A raw HTTP request, so the test controls Host, Origin and every other header. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'POST', headers: options.headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += String(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(options.body ?? '');
  });
}

/** A GenerateDataKey request as a browser page could send it once its name resolves to 127.0.0.1. */
async function generateAs(
  server: KmsServer,
  keyId: string,
  headers: Record<string, string>,
): Promise<Answer> {
  return send(`${server.endpoint}/`, {
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.GenerateDataKey',
      ...headers,
    },
    body: JSON.stringify({ KeyId: keyId, KeySpec: 'AES_256' }),
  });
}

async function serverWithKey() {
  const server = await startServer();
  const { arn } = await createKey(clientFor(server));
  return { server, arn };
}

describe('Host and Origin checks (DNS rebinding, cross-site pages)', () => {
  it('a request naming a foreign Host gets no data key', async () => {
    const { server, arn } = await serverWithKey();
    const answer = await generateAs(server, arn, { host: `attacker.example:${server.port}` });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.text)).toMatchObject({ __type: 'AccessDeniedException' });
    expect(answer.text).not.toContain('Plaintext');
    // The same request with a loopback Host works: the refusal is the Host's doing.
    expect((await generateAs(server, arn, { host: `localhost:${server.port}` })).text).toContain('Plaintext');
  });

  it('a request with a foreign Origin is refused even with a loopback Host and the token', async () => {
    const { server, arn } = await serverWithKey();
    for (const origin of ['http://attacker.example', 'null', `http://attacker.example:${server.port}`]) {
      const answer = await generateAs(server, arn, {
        origin,
        authorization: `Bearer ${server.token}`,
      });
      expect([answer.status, answer.text.includes('Plaintext')]).toEqual([403, false]);
    }
    expect((await generateAs(server, arn, { origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
  });

  it('allowedHosts admits a name such as a compose service without the token', async () => {
    const server = await startServer({ allowedHosts: ['kms'] });
    const { arn } = await createKey(clientFor(server));
    expect((await generateAs(server, arn, { host: `kms:${server.port}` })).status).toBe(200);
    expect((await generateAs(server, arn, { host: `kms.attacker.example:${server.port}` })).status).toBe(403);
  });
});

describe('the token', () => {
  it('the admin API refuses a cross-site text/plain POST (no token) and leaves the faults unchanged', async () => {
    const server = await startServer();
    const answer = await send(`${server.endpoint}/__admin/faults`, {
      headers: { 'content-type': 'text/plain', origin: `http://127.0.0.1:${server.port}` },
      body: JSON.stringify({ failNext: { count: 100 } }),
    });
    expect(answer.status).toBe(401);
    expect(server.faults().failNext).toBeNull();
    const wrong = await send(`${server.endpoint}/__admin/stats`, {
      method: 'GET',
      headers: { authorization: `Bearer ${'x'.repeat(server.token.length)}` },
    });
    expect(wrong.status).toBe(401);
    const right = await send(`${server.endpoint}/__admin/faults`, {
      headers: { authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ latencyMs: 1 }),
    });
    expect([right.status, server.faults().latencyMs]).toEqual([200, 1]);
  });

  it('a random token per server unless given; a given token must be long enough', async () => {
    const a = await startServer();
    const b = await startServer({ token: 'a-fixed-token-for-tests' });
    expect(a.token).toMatch(/^[\w-]{32}$/);
    expect(b.token).toBe('a-fixed-token-for-tests');
    await expect(startKmsServer({ port: 0, warn: () => {}, token: 'short' })).rejects.toThrow(/token/);
  });

  it('from another machine (not loopback) only the token admits, also through the SDK with the token as access key id', async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((i) => i?.family === 'IPv4' && !i.internal)?.address;
    expect(address, 'this test needs a non-loopback IPv4 interface').toBeDefined();
    const server = await startServer({ host: '0.0.0.0' });
    const { arn } = await createKey(clientFor(server));
    const remote = `http://${address}:${server.port}`;
    const anonymous = await send(`${remote}/`, {
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'TrentService.GenerateDataKey',
      },
      body: JSON.stringify({ KeyId: arn, KeySpec: 'AES_256' }),
    });
    expect([anonymous.status, JSON.parse(anonymous.text).__type]).toEqual([
      401,
      'UnrecognizedClientException',
    ]);
    const placeholder = new KMSClient({
      endpoint: remote,
      region: server.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    await expect(
      placeholder.send(new GenerateDataKeyCommand({ KeyId: arn, KeySpec: 'AES_256' })),
    ).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });
    placeholder.destroy();
    const withToken = new KMSClient({ ...server.clientConfig, endpoint: remote, maxAttempts: 1 });
    const out = await withToken.send(new GenerateDataKeyCommand({ KeyId: arn, KeySpec: 'AES_256' }));
    expect(out.Plaintext).toHaveLength(32);
    withToken.destroy();
  });
});

describe('obviously not production', () => {
  it('key ARNs use account 000000000000, never an AWS documentation account', async () => {
    const { arn } = await serverWithKey();
    expect(arn).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//);
    expect(arn).not.toMatch(/111122223333|123456789012/);
  });

  it('every start prints the NOT FOR PRODUCTION banner', async () => {
    const warnings: string[] = [];
    const server = await startKmsServer({ port: 0, warn: (m) => warnings.push(m) });
    await server.close();
    expect(warnings[0]).toBe(BANNER);
    expect(BANNER).toContain('kms-local: NOT FOR PRODUCTION');
  });
});
