import { cpus, loadavg } from 'node:os';
import { CachingKeyring } from '@fieldseal/cache';
import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { BenchError } from '../errors.js';
import { type BenchDatabase, DEFAULT_PG_URL, postgresDatabase, sqliteDatabase } from './databases.js';
import { createPrismaTables, prismaCase } from './prisma-cases.js';
import {
  type Dialect,
  type Orm,
  personOf,
  SINGLE_ROW_OPS,
  type SingleRowCase,
  type SingleRowOp,
} from './single-row-case.js';
import type { OpResult, SingleRowOptions, SingleRowReport, SingleRowResult } from './single-row-results.js';
import { StatementLog, statementCount } from './statement-log.js';
import { typeormCase } from './typeorm-cases.js';

const VARIANTS = ['plain', 'fieldseal', 'peer'] as const;

/**
 * Times one-row operations (insert, find by id, find by email, update an encrypted field,
 * update a plain field, delete) through TypeORM and Prisma on PostgreSQL and SQLite: the plain
 * ORM, fieldseal (`CachingKeyring` over a `LocalKeyring`, three encrypted text columns and a
 * blind index) and the static-key peer, all in one process. Each round runs every case for
 * `iterations` iterations (the case order rotates per round, so drift in the machine's load falls
 * on all); the first round warms up. One extra iteration per case, untimed, counts each op's SQL
 * statements and round trips at the driver.
 */
export async function runSingleRow(options: SingleRowOptions = {}): Promise<SingleRowReport> {
  const dialects = options.dialects ?? ['postgres', 'sqlite'];
  const orms = options.orms ?? ['typeorm', 'prisma'];
  const iterations = options.iterations ?? 100;
  const rounds = options.rounds ?? 5;
  const log = StatementLog.install();
  const master = LocalKeyring.fromString(LocalKeyring.generateKeyText('bench-single-row'));
  const keyring = new CachingKeyring(master);
  const keys = { keyring, blindIndexKey: await BlindIndex.generateKey(master) };
  const results: SingleRowResult[] = [];
  const run = Date.now().toString(36);
  try {
    for (const dialect of dialects) {
      const database = await open(dialect, options.pgUrl);
      const cases: SingleRowCase[] = [];
      try {
        if (orms.includes('prisma')) await createPrismaTables(database);
        for (const orm of orms)
          for (const variant of VARIANTS)
            cases.push(await (orm === 'typeorm' ? typeormCase : prismaCase)(database, variant, keys));
        results.push(...(await measure(cases, { iterations, rounds, log, run, ...options })));
      } finally {
        for (const c of cases) await c.close();
        await database.drop();
      }
    }
  } finally {
    keyring.close();
  }
  return {
    kind: 'single-row',
    date: new Date().toISOString(),
    environment: {
      node: process.version,
      cpus: cpus().length,
      platform: process.platform,
      loadAverage: loadavg(),
    },
    options: {
      dialects,
      orms,
      iterations,
      rounds,
      keyring: 'CachingKeyring (defaults) over LocalKeyring',
    },
    results,
  };
}

function open(dialect: Dialect, pgUrl: string | undefined): Promise<BenchDatabase> {
  if (dialect === 'sqlite') return Promise.resolve(sqliteDatabase());
  return postgresDatabase(pgUrl ?? process.env.FIELDSEAL_PG_URL ?? DEFAULT_PG_URL);
}

interface MeasureContext {
  readonly iterations: number;
  readonly rounds: number;
  readonly log: StatementLog;
  readonly run: string;
  readonly onProgress?: (message: string) => void;
}

async function measure(cases: SingleRowCase[], ctx: MeasureContext): Promise<SingleRowResult[]> {
  const samples = cases.map(() => new Map<SingleRowOp, number[]>());
  const cpu = cases.map(() => new Map<SingleRowOp, number[]>());
  const counted = cases.map(
    () => new Map<SingleRowOp, Pick<OpResult, 'statements' | 'roundTrips' | 'sql'>>(),
  );
  let next = 0;
  // Counting iteration: untimed, statements logged per op.
  for (const [index, c] of cases.entries()) {
    await iteration(
      c,
      ctx.run,
      next++,
      (op) => {
        const entries = ctx.log.take();
        counted[index]?.set(op, {
          statements: entries.reduce((sum, e) => sum + statementCount(e.sql), 0),
          roundTrips: entries.length,
          sql: entries.map((e) => shorten(e.sql)),
        });
      },
      () => ctx.log.record(true),
    );
    ctx.log.record(false);
  }
  for (let round = 0; round <= ctx.rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const index = (k + round) % cases.length;
      const c = cases[index] as SingleRowCase;
      const bucket = samples[index] as Map<SingleRowOp, number[]>;
      const cpuBucket = cpu[index] as Map<SingleRowOp, number[]>;
      for (let i = 0; i < ctx.iterations; i++) {
        await iteration(c, ctx.run, next++, (op, ms, cpuUs) => {
          if (round === 0) return; // warm-up
          push(bucket, op, ms);
          push(cpuBucket, op, cpuUs);
        });
      }
      ctx.onProgress?.(
        `${c.dialect} ${round === 0 ? 'warm-up' : `round ${round}/${ctx.rounds}`}: ${c.label}`,
      );
    }
  }
  return cases.map((c, index) => {
    const ops: Partial<Record<SingleRowOp, OpResult>> = {};
    for (const op of SINGLE_ROW_OPS) {
      const times = samples[index]?.get(op);
      const count = counted[index]?.get(op);
      if (!times || !count) continue;
      times.sort((a, b) => a - b);
      const cpuTimes = [...(cpu[index]?.get(op) ?? [0])].sort((a, b) => a - b);
      ops[op] = {
        p50Us: Math.round(quantile(times, 0.5) * 1000),
        p99Us: Math.round(quantile(times, 0.99) * 1000),
        samples: times.length,
        cpuUs: Math.round(quantile(cpuTimes, 0.5)),
        ...count,
      };
    }
    return { dialect: c.dialect, orm: c.orm, variant: c.variant, label: c.label, ops };
  });
}

/**
 * One iteration: the six ops on one new row, each timed, each result checked (a case that
 * returned wrong data must fail the run, not look fast). `before` runs before each op.
 */
async function iteration(
  c: SingleRowCase,
  run: string,
  i: number,
  done: (op: SingleRowOp, ms: number, cpuUs: number) => void,
  before: () => void = () => undefined,
): Promise<void> {
  const person = personOf(run, i);
  const timed = async <T>(op: SingleRowOp, call: () => Promise<T>): Promise<T> => {
    before();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const result = await call();
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    done(op, ms, used.user + used.system);
    return result;
  };
  const id = await timed('insert', () => c.insert(person));
  const byId = await timed('findById', () => c.findById(id));
  if (byId?.email !== person.email || byId.note !== person.note)
    throw new BenchError(
      'wrong-plaintext',
      `${c.dialect} ${c.label}: find by id of row ${id} read back wrong data`,
    );
  if (c.findByIndex) {
    const lookup = c.findByIndex;
    const byEmail = await timed('findByIndex', () => lookup(person.email));
    if (byEmail?.id !== id)
      throw new BenchError(
        'wrong-plaintext',
        `${c.dialect} ${c.label}: find by email of row ${id} found another row`,
      );
  }
  await timed('updateEncrypted', () => c.updateEncrypted(id, `updated note ${i}`));
  await timed('updatePlain', () => c.updatePlain(id, `renamed ${i}`));
  await timed('delete', () => c.delete(id));
}

function push(bucket: Map<SingleRowOp, number[]>, op: SingleRowOp, value: number): void {
  const list = bucket.get(op);
  if (list) list.push(value);
  else bucket.set(op, [value]);
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** The statement on one line, its column lists (SELECT …, RETURNING …) elided: what shows is what it does. */
function shorten(sql: string): string {
  const flat = sql
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^SELECT .+? FROM /i, 'SELECT … FROM ')
    .replace(/ RETURNING .+$/i, ' RETURNING …');
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

export type { Orm };
