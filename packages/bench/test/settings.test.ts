import { ConfigError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import {
  CACHE_DEFAULTS,
  CACHE_OFF,
  CHECKED_SETTING,
  cacheSetting,
  defaultGrid,
  GUIDE_SETTINGS,
  parseSetting,
  settingsGrid,
} from '../src/index.js';

describe('cache settings of the grid', () => {
  it('parses off and bound lists with k/M and ms/s/m/h suffixes, defaulting the rest', () => {
    expect(parseSetting('off')).toBe(CACHE_OFF);
    expect(parseSetting('maxUses=10k,maxAge=1m').cache).toEqual({
      ...CACHE_DEFAULTS,
      maxUses: 10_000,
      maxAge: 60_000,
    });
    expect(parseSetting('capacity=10, maxAge=250ms').cache).toEqual({
      ...CACHE_DEFAULTS,
      capacity: 10,
      maxAge: 250,
    });
    expect(parseSetting('maxUses=1M,maxAge=1h').label).toBe('1M uses · 1h · cap 1k');
  });

  it('rejects unknown bounds and bad values with a ConfigError naming the option', () => {
    expect(() => parseSetting('maxKeys=3')).toThrow(ConfigError);
    expect(() => parseSetting('maxUses=0')).toThrow(/maxUses/);
    expect(() => parseSetting('maxAge=soon')).toThrow(/maxAge/);
    expect(() => cacheSetting({ capacity: 1.5 })).toThrow(/capacity/);
  });

  it('the default grid starts with off, holds the checked OLTP setting and the guide points, without duplicates', () => {
    const grid = defaultGrid();
    const labels = grid.map((setting) => setting.label);
    expect(labels[0]).toBe('off');
    expect(labels).toContain(CHECKED_SETTING.label);
    for (const bounds of Object.values(GUIDE_SETTINGS)) expect(labels).toContain(cacheSetting(bounds).label);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('crosses the given lists into a grid after off', () => {
    const grid = settingsGrid({ maxUses: [10, 100], maxAge: [1_000, 60_000], capacity: [5] });
    expect(grid).toHaveLength(5);
    expect(grid[0]).toBe(CACHE_OFF);
    expect(grid.slice(1).map((setting) => setting.cache)).toContainEqual({
      maxUses: 100,
      maxAge: 1_000,
      capacity: 5,
    });
  });
});
