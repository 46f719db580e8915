/**
 * What every end-to-end helper shares: finding a test's processes in /proc, marking them, temporary
 * folders, waiting for a condition instead of sleeping, and one cleanup that leaves nothing behind
 * (rpr processes still running, marked processes, servers, folders). core-helpers.ts and
 * service-helpers.ts start rpr on top of this.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const running = new Set<ChildProcess>();
const markers = new Set<string>();
const dirs = new Set<string>();
const closers = new Set<() => Promise<void>>();

/** A process cleanup() kills if it still runs; forgotten once it ends. */
export function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** Processes whose whole command line is `marker` are killed by cleanup(). */
export const mark = (marker: string): void => void markers.add(marker);

/** Something cleanup() closes (a server, a fake endpoint). */
export const closeLater = (close: () => Promise<void>): void => void closers.add(close);

/**
 * Live processes (state other than Z) whose whole command line is `marker`,
 * e.g. "sleep 41.2377" (not the sh -c or rpr whose arguments mention it).
 */
export function liveProcesses(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.trim() !== marker) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') pids.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return pids;
}

/** A unique `sleep` duration; its command line ("sleep 41.237") marks a test's processes. */
export function uniqueSleep(): { secs: string; marker: string } {
  const secs = `${40 + Math.floor(Math.random() * 900)}.${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}7`;
  const marker = `sleep ${secs}`;
  mark(marker);
  return { secs, marker };
}

/** A fresh temporary directory, removed by cleanup(). */
export function tempDir(prefix = 'rpr-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value other than undefined/false. */
export async function waitUntil<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** afterEach: SIGKILL every rpr still running and every marked process, close servers, remove temp dirs. */
export async function cleanup(): Promise<void> {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
  for (const marker of markers) {
    for (const pid of liveProcesses(marker)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  markers.clear();
  await Promise.all([...closers].map((close) => close()));
  closers.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** Lines of a text, without the empty string after a final newline. */
export function lines(text: string): string[] {
  const parts = text.split('\n');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** A stack trace line as Node prints it. */
export const STACK_LINE = /^\s+at .+(\.js|\.ts|\.mjs|\.cjs)(:\d+)+\)?$/m;
