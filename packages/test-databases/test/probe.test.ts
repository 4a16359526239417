import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointOf, probe } from '../src/probe.js';

let server: Server;
let port: number;
let closedPort: number;

beforeAll(async () => {
  server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  const other = createServer();
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  closedPort = (other.address() as { port: number }).port;
  await new Promise((resolve) => other.close(resolve));
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('probe', () => {
  it('a listening server is reachable', async () => {
    expect(await probe(`postgresql://postgres@127.0.0.1:${port}/test`)).toBe(true);
  });

  it('a closed port is not reachable, and the probe answers instead of throwing', async () => {
    expect(await probe(`mysql://root@127.0.0.1:${closedPort}/test`)).toBe(false);
  });

  it('an address that never answers is not reachable within the timeout', async () => {
    const started = Date.now();
    // 192.0.2.0/24 is TEST-NET-1: reserved, never routed.
    expect(await probe('postgresql://postgres@192.0.2.1:5432/test', 300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('endpointOf', () => {
  it('takes the scheme default port when the URL has none, for each scheme the suites use', () => {
    expect(endpointOf('postgres://u@db.example/test')).toEqual({ host: 'db.example', port: 5432 });
    expect(endpointOf('postgresql://u@db.example/test')).toEqual({ host: 'db.example', port: 5432 });
    expect(endpointOf('mysql://root@db.example/test')).toEqual({ host: 'db.example', port: 3306 });
    expect(endpointOf('mariadb://root@db.example:3307/test')).toEqual({ host: 'db.example', port: 3307 });
  });

  it('probes localhost on 127.0.0.1 (servers here listen on IPv4 only)', () => {
    expect(endpointOf('mysql://root@localhost:3306/test').host).toBe('127.0.0.1');
  });

  it('refuses a scheme it does not know instead of guessing a port', () => {
    expect(() => endpointOf('redis://127.0.0.1/0')).toThrow(/Unsupported database URL scheme "redis:"/);
  });
});
