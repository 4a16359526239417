import type { DatabaseName } from './decide.js';

/** Started containers: the URLs to export, and how to stop them. */
export interface StartedDatabases {
  readonly urls: Partial<Record<DatabaseName, string>>;
  stop(): Promise<void>;
}

/** Whether testcontainers finds a working container runtime (Docker, Podman, Colima...). */
export async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts PostgreSQL 15 and/or MariaDB 10.11 with testcontainers, with the same credentials as
 * the local servers the suites default to (trust / root with an empty password, database `test`).
 * Not run on the project's own machines (no Docker engine there); kept to this one function.
 */
export async function startContainers(databases: readonly DatabaseName[]): Promise<StartedDatabases> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const started = await Promise.all(
    databases.map(async (db) => {
      if (db === 'postgres') {
        const container = await new GenericContainer('postgres:15')
          .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'test' })
          .withExposedPorts(5432)
          .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
          .start();
        const url = `postgresql://postgres@${container.getHost()}:${container.getMappedPort(5432)}/test`;
        return { db, url, container };
      }
      const container = await new GenericContainer('mariadb:10.11')
        .withEnvironment({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1', MARIADB_DATABASE: 'test' })
        .withExposedPorts(3306)
        .withWaitStrategy(Wait.forLogMessage(/ready for connections/, 2))
        .start();
      const url = `mysql://root@${container.getHost()}:${container.getMappedPort(3306)}/test`;
      return { db, url, container };
    }),
  );
  return {
    urls: Object.fromEntries(started.map(({ db, url }) => [db, url])),
    stop: async () => {
      await Promise.all(started.map(({ container }) => container.stop()));
    },
  };
}
