#!/usr/bin/env node
// Runs one single-row op of one case in a loop and CPU-profiles the loop only (after a warm-up;
// startup and module loading are left out), writing <out>.cpuprofile:
//   node scripts/profile-single-row.mjs <typeorm|prisma> <plain|fieldseal|peer> \
//     <findById|findByIndex|updateEncrypted|updatePlain> [postgres|sqlite] [iterations] [out]
//   node scripts/summarize-profile.mjs <out>.cpuprofile
// Each iteration inserts a row (untimed setup is still profiled; compare with the plain case),
// then runs the op 10 times on it. Uses the built dist/ (run the package's build first).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { CachingKeyring } from '@fieldseal/cache';
import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { DEFAULT_PG_URL, postgresDatabase, sqliteDatabase } from '../dist/single-row/databases.js';
import { createPrismaTables, prismaCase } from '../dist/single-row/prisma-cases.js';
import { personOf } from '../dist/single-row/single-row-case.js';
import { typeormCase } from '../dist/single-row/typeorm-cases.js';

const [orm = 'typeorm', variant = 'fieldseal', op = 'findById', dialect = 'postgres', n = '300', out] =
  process.argv.slice(2);
const master = LocalKeyring.fromString(LocalKeyring.generateKeyText('profile'));
const keyring = new CachingKeyring(master);
const keys = { keyring, blindIndexKey: await BlindIndex.generateKey(master) };
const database =
  dialect === 'postgres'
    ? await postgresDatabase(process.env.FIELDSEAL_PG_URL ?? DEFAULT_PG_URL)
    : sqliteDatabase();
try {
  if (orm === 'prisma') await createPrismaTables(database);
  const c = await (orm === 'prisma' ? prismaCase : typeormCase)(database, variant, keys);
  const run = Date.now().toString(36);
  const calls = {
    findById: (id) => c.findById(id),
    findByIndex: (_id, p) => c.findByIndex(p.email),
    updateEncrypted: (id, _p, i) => c.updateEncrypted(id, `note ${i}`),
    updatePlain: (id, _p, i) => c.updatePlain(id, `name ${i}`),
  };
  const call = calls[op];
  if (!call) throw new Error(`op must be one of ${Object.keys(calls).join(', ')}`);
  const loop = async (count, tag) => {
    let ops = 0;
    let cpu = 0;
    for (let i = 0; i < count; i++) {
      const person = personOf(`${run}${tag}`, i);
      const id = await c.insert(person);
      for (let k = 0; k < 10; k++, ops++) {
        const before = process.cpuUsage();
        await call(id, person, i * 10 + k);
        const used = process.cpuUsage(before);
        cpu += used.user + used.system;
      }
    }
    return { ops, cpu };
  };
  await loop(Math.ceil(Number(n) / 5), 'w'); // warm-up: JIT, caches, pools
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const started = performance.now();
  const { ops, cpu } = await loop(Number(n), 'm');
  const ms = performance.now() - started;
  const { profile } = await session.post('Profiler.stop');
  const file = `${out ?? `/tmp/profile-${orm}-${variant}-${op}-${dialect}`}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  console.log(
    `${orm} ${variant} ${op} on ${dialect}: ${ops} ops (plus ${n} inserts) in ${ms.toFixed(0)} ms; op CPU ${(cpu / ops).toFixed(0)} µs/op (process.cpuUsage); profile ${file}`,
  );
  await c.close();
} finally {
  keyring.close();
  await database.drop();
}
