#!/usr/bin/env node
// A test-only Prisma generator: writes the DMMF schema (input and output types) Prisma generated
// for the fixture models, so a test can compare every key Prisma accepts with the walker's tables.
import { writeFileSync } from 'node:fs';
import generatorHelper from '@prisma/generator-helper';

generatorHelper.generatorHandler({
  onManifest: () => ({ prettyName: 'dmmf dump (tests)' }),
  onGenerate: async (options) => {
    writeFileSync(options.generator.output.value, JSON.stringify(options.dmmf));
  },
});
