import { type DemoResult, PEOPLE } from './people.js';

/** What `--check` verifies (CI): every value ciphertext at rest, read back exactly, nulls kept. */
export function checkDemo(result: DemoResult, dataKeysMade: number): string[] {
  const problems: string[] = [];
  for (const [i, person] of PEOPLE.entries()) {
    const atRest = result.stored[i];
    const back = result.read[i];
    if (!atRest || !back) {
      problems.push(`row ${i + 1} is missing`);
      continue;
    }
    if (back.email !== person.email || back.ssn !== person.ssn)
      problems.push(`row ${i + 1} did not read back equal`);
    if (!/^fs\d:/.test(atRest.email) || atRest.email.includes(person.email))
      problems.push(`row ${i + 1}: email not encrypted at rest`);
    if (person.ssn && (!atRest.ssn?.startsWith('fs') || atRest.ssn.includes(person.ssn)))
      problems.push(`row ${i + 1}: ssn not encrypted at rest`);
    if (person.ssn === '' && !/^fs\d:/.test(atRest.ssn ?? ''))
      problems.push('an empty string was not encrypted');
    if (person.ssn === null && atRest.ssn !== null) problems.push('a null was not kept as NULL');
    if (!atRest.dataKey?.startsWith('fsk')) problems.push(`row ${i + 1} has no wrapped data key`);
  }
  if (dataKeysMade !== 1)
    problems.push(`expected 1 data key for ${PEOPLE.length} rows (the cache), made ${dataKeysMade}`);
  return problems;
}
