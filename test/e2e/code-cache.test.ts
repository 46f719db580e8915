/**
 * The bundle's chunks compile from the V8 code cache the build made (scripts/code-cache.mjs, read by
 * src/cli/code-cache.ts): for help, a core job and a scheduler plugin's job, every chunk loaded
 * once rpr's hook is in place has a cache, and V8 accepts every one. A cache V8 refuses is silent
 * (the chunk compiles from source), so only this says it: V8's flags are part of a cache's key, and
 * setting one after the hook (as rpr did for jobs) would make V8 refuse them all.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RPR, tempDir } from './core-helpers.js';

const PRELOAD = fileURLToPath(new URL('../helpers/record-compiles.cjs', import.meta.url));
const BUNDLE = path.dirname(RPR);

interface Compile {
  file: string;
  by: 'node, before the hook' | 'node, after the hook' | 'cache';
  rejected?: boolean;
}

function compiles(args: string[]): { status: number | null; stdout: string; compiled: Compile[] } {
  const file = path.join(tempDir(), 'compiles');
  // Without NODE_V8_COVERAGE (npm test sets it for the processes it measures): under it, rpr leaves
  // every chunk to Node's loader.
  const env = { ...process.env, NODE_V8_COVERAGE: undefined, RPR_COMPILES_FILE: file, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent' };
  const r = spawnSync(process.execPath, ['--require', PRELOAD, RPR, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  const compiled = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Compile)
    .filter((c) => path.dirname(c.file) === BUNDLE);
  return { status: r.status, stdout: r.stdout, compiled };
}

describe('the code cache', () => {
  for (const args of [
    ['fibonacci', '--help'],
    ['count', '--times', '1', '--', 'echo', 'ran'],
    ['fibonacci', '--times', '2', '--initial', '1ms', '--', 'echo', 'ran'],
  ]) {
    it(`rpr ${args.join(' ')}: every chunk after the hook comes from its cache, and V8 takes each`, () => {
      const r = compiles(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(args[1] === '--help' ? /Usage: rpr fibonacci/ : /^ran\n/);
      const fromCache = r.compiled.filter((c) => c.by === 'cache');
      expect(fromCache.length).toBeGreaterThan(1);
      expect(fromCache.filter((c) => c.rejected)).toEqual([]);
      expect(r.compiled.filter((c) => c.by === 'node, after the hook')).toEqual([]);
      // bin.js and what it loads before it sets V8's flags: Node compiles them, as always.
      expect(r.compiled.filter((c) => c.by === 'node, before the hook').map((c) => path.basename(c.file))).toContain('bin.js');
    });
  }
});
