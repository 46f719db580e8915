import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

// Every ```toml block in the configuration guide must be a valid config file on its own.
const guide = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const blocks = [...guide.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/configuration.md', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThanOrEqual(5));

  it.each(blocks.map((text, i) => [i + 1, text] as const))('example %i is valid', (_i, text) => {
    expect(parseConfig(text, 'example.toml').problems.map((p) => p.message)).toEqual([]);
  });
});
