import { describe, expect, it } from 'vitest';
import { decide, type Findings } from '../src/decide.js';

const urls = {
  postgres: 'postgresql://postgres@127.0.0.1:5432/test',
  mariadb: 'mysql://root@127.0.0.1:3306/test',
};

function findings(
  over: Partial<Findings> & { dockerAnswer?: boolean },
): Findings & { dockerAsked: () => number } {
  let asked = 0;
  return {
    skipDb: over.skipDb ?? false,
    reachable: over.reachable ?? { postgres: true, mariadb: true },
    docker: async () => {
      asked++;
      return over.dockerAnswer ?? false;
    },
    dockerAsked: () => asked,
  };
}

describe('decide', () => {
  it('reachable servers are used, and Docker is not even asked', async () => {
    const f = findings({ dockerAnswer: true });
    expect(await decide(f, urls)).toEqual({ kind: 'use-servers' });
    expect(f.dockerAsked()).toBe(0);
  });

  it('unreachable servers with Docker answering: containers for exactly the missing ones', async () => {
    expect(
      await decide(findings({ reachable: { postgres: false, mariadb: false }, dockerAnswer: true }), urls),
    ).toEqual({ kind: 'start-containers', databases: ['postgres', 'mariadb'] });
    expect(
      await decide(findings({ reachable: { postgres: true, mariadb: false }, dockerAnswer: true }), urls),
    ).toEqual({ kind: 'start-containers', databases: ['mariadb'] });
  });

  it('neither servers nor Docker: fail with one message naming what is missing and the three ways', async () => {
    const decision = await decide(findings({ reachable: { postgres: false, mariadb: true } }), urls);
    expect(decision.kind).toBe('fail');
    const message = decision.kind === 'fail' ? decision.message : '';
    expect(message).toContain(`PostgreSQL (${urls.postgres}) not reachable`);
    expect(message).not.toContain('MariaDB (');
    expect(message).toContain('FIELDSEAL_PG_URL / FIELDSEAL_MYSQL_URL');
    expect(message).toContain('Docker');
    expect(message).toContain('FIELDSEAL_SKIP_DB=1');
  });

  it('FIELDSEAL_SKIP_DB=1 wins over everything, even reachable servers (the run asked for SQLite only)', async () => {
    const f = findings({ skipDb: true, reachable: { postgres: false, mariadb: false } });
    expect(await decide(f, urls)).toEqual({ kind: 'skip-databases' });
    expect(f.dockerAsked()).toBe(0);
  });
});
