// The TypeORM app as CommonJS (as most NestJS apps are): require() of the ES-module packages
// works on Node 20.19+ through their `default` export condition.
require('reflect-metadata');
const cache = require('@fieldseal/cache');
const fieldseal = require('@fieldseal/typeorm');
const typeorm = require('typeorm');
const keys = require('./keys.mjs');
const { run } = require('./typeorm-body.cjs');

run({ typeorm, fieldseal, cache, keys, label: 'CommonJS' }).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
