import { connect } from 'node:net';

/** Where a database URL points: host and TCP port (the scheme's default when the URL has none). */
export function endpointOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const defaults: Record<string, number> = {
    'postgres:': 5432,
    'postgresql:': 5432,
    'mysql:': 3306,
    'mariadb:': 3306,
  };
  const port = parsed.port ? Number(parsed.port) : defaults[parsed.protocol];
  if (port === undefined) throw new Error(`Unsupported database URL scheme "${parsed.protocol}" in ${url}`);
  // `localhost` may resolve to ::1 first while the server listens on 127.0.0.1 only.
  const host = parsed.hostname === 'localhost' ? '127.0.0.1' : parsed.hostname.replace(/^\[|\]$/g, '');
  return { host, port };
}

/**
 * Whether a TCP connection to the database's host and port opens within `timeoutMs`. Enough
 * to choose between a local server and a container: credentials and databases are the tests'
 * own business, and they fail loudly when wrong.
 */
export function probe(url: string, timeoutMs = 1_500): Promise<boolean> {
  const { host, port } = endpointOf(url);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
