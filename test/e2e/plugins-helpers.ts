/**
 * Helpers for the end-to-end plugin tests: a temporary RPR_PLUGIN_DIR holding copies of the
 * fixture plugins (test/plugins/fixtures, built by vitest's globalSetup) or of bundled ones, config
 * files, rpr's descendants and peak memory read from /proc, and the verbose "next run" lines.
 * Processes, servers and directories are cleaned up by core-helpers' cleanup() and the tests.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureFixtures, FIXTURES_DIST } from '../plugins/helpers.js';
import { lines, tempDir } from './core-helpers.js';

export const BUNDLED = fileURLToPath(new URL('../../plugins-dist/', import.meta.url));

/** A fresh plugin directory with copies of these fixtures (by name) in it. */
export function pluginDir(...fixtures: string[]): string {
  ensureFixtures();
  const dir = tempDir();
  for (const name of fixtures) installFixture(dir, name);
  return dir;
}

/** Copies a built fixture into `dir` (as `as`, default its own name): plugin.toml and plugin.wasm only. */
export function installFixture(dir: string, name: string, as = name): string {
  const to = path.join(dir, as);
  for (const file of ['plugin.toml', 'plugin.wasm']) cpSync(path.join(FIXTURES_DIST, name, file), path.join(to, file));
  return to;
}

/** Copies a bundled plugin into `dir`, as a user would install their own copy of it. */
export function installBundled(dir: string, name: string): string {
  const to = path.join(dir, name);
  cpSync(path.join(BUNDLED, name), to, { recursive: true });
  return to;
}

/** Writes a config file in a fresh directory; returns its path. */
export function configFile(text: string): string {
  const file = path.join(tempDir(), 'rpr.toml');
  writeFileSync(file, text);
  return file;
}

/** Environment for rpr with this plugin directory. */
export const withPlugins = (dir: string): Record<string, string> => ({ RPR_PLUGIN_DIR: dir });

/** Non-empty stderr lines. */
export const errLines = (stderr: string): string[] => lines(stderr).filter((l) => l.trim() !== '');

/** Every process below `pid` (children, grandchildren...), live or zombie. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, ppid] of parent) {
      if (ppid === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

/** Processes of this list that still exist (any state but zombie reaped by init). */
export function alive(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  });
}

/**
 * Watches a process's peak resident memory (VmHWM, kB) until it exits; stop() returns the
 * highest value read. Polls every 20 ms; the kernel's high-water mark keeps peaks between polls.
 */
export function watchPeakRss(pid: number): { stop(): number } {
  let peak = 0;
  const read = (): void => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      // gone
    }
  };
  read();
  const timer = setInterval(read, 20);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** The delays that --verbose announces: "next run N at HH:MM:SS (in 1.5s)" -> Map(N -> ms). */
export function announcedDelays(stderr: string): Map<number, number> {
  const delays = new Map<number, number>();
  for (const m of stderr.matchAll(/next run (\d+) at \S+ \(in (\d+(?:\.\d+)?)(ms|s)\)/g)) {
    delays.set(Number(m[1]), Number(m[2]) * (m[3] === 's' ? 1000 : 1));
  }
  return delays;
}

/** One --json record per line. */
export function jsonRuns(stdout: string): { run: number; start: string; end: string; exit_code: number | null; success: boolean; timed_out: boolean; decided_by: string }[] {
  return lines(stdout).map((l) => JSON.parse(l));
}

/** ms between the end of each run and the start of the next, from --json records. */
export function gapsMs(stdout: string): number[] {
  const runs = jsonRuns(stdout);
  return runs.slice(1).map((r, i) => Date.parse(r.start) - Date.parse(runs[i]!.end));
}
