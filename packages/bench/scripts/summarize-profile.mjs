#!/usr/bin/env node
// Summarises a .cpuprofile (from `node --cpu-prof`): self time by package / area, and the top
// functions by self time.   node scripts/summarize-profile.mjs <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

const [file, topText = '25', inclusiveFilter] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const area = (url, name) => {
  if (!url) return name.startsWith('(') ? name : '(native/builtin)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /packages\/([^/]+)\//.exec(url);
  return ours ? `@fieldseal/${ours[1]}` : url;
};
const areas = new Map();
const fns = new Map();
for (const [id, us] of self) {
  const node = byId.get(id);
  const { functionName, url, lineNumber } = node.callFrame;
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const key = `${functionName || '(anonymous)'} ${a}${url ? `:${lineNumber + 1}` : ''}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
}
const pct = (us) =>
  `${((100 * us) / total).toFixed(1).padStart(5)}% ${(us / 1000).toFixed(0).padStart(6)} ms`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
console.log('\nself time by area:');
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`  ${pct(us)}  ${a}`);
console.log('\ntop functions by self time:');
for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, Number(topText)))
  console.log(`  ${pct(us)}  ${f}`);

// Inclusive time of the functions whose area matches the filter (e.g. "@fieldseal"): each node's
// subtree, counted once per function even when it recurses.
if (inclusiveFilter) {
  const children = new Map(profile.nodes.map((n) => [n.id, n.children ?? []]));
  const subtree = new Map();
  const totalOf = (id) => {
    if (subtree.has(id)) return subtree.get(id);
    let sum = self.get(id) ?? 0;
    for (const child of children.get(id)) sum += totalOf(child);
    subtree.set(id, sum);
    return sum;
  };
  const inclusive = new Map();
  const walk = (id, open) => {
    const node = byId.get(id);
    const { functionName, url, lineNumber } = node.callFrame;
    const a = area(url, functionName);
    const key = `${functionName || '(anonymous)'} ${a}${url ? `:${lineNumber + 1}` : ''}`;
    let next = open;
    if (a.includes(inclusiveFilter) && !open.has(key)) {
      inclusive.set(key, (inclusive.get(key) ?? 0) + totalOf(id));
      next = new Set(open).add(key);
    }
    for (const child of children.get(id)) walk(child, next);
  };
  walk(profile.nodes[0].id, new Set());
  console.log(`\ninclusive time of ${inclusiveFilter} functions:`);
  for (const [f, us] of [...inclusive].sort((x, y) => y[1] - x[1]).slice(0, Number(topText)))
    console.log(`  ${pct(us)}  ${f}`);
}
