#!/usr/bin/env node
// Prisma generator entry: `generator fieldseal { provider = "fieldseal-prisma" }`.
import '../dist/generate/generator.js';
