// The TypeORM app as an ES module.
import 'reflect-metadata';
import * as cache from '@fieldseal/cache';
import * as fieldseal from '@fieldseal/typeorm';
import * as typeorm from 'typeorm';
import * as keys from './keys.mjs';
import body from './typeorm-body.cjs';

await body.run({ typeorm, fieldseal, cache, keys, label: 'ESM' });
