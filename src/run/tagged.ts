// fs.promises, not node:fs/promises: Node loads it on first use (some 2 ms), and a job whose runs
// start through the launcher never gets here.
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import { monotonicMs } from '../clock/clock.js';
import { adopters } from './spawn.js';

/**
 * A process that leaves its run's process group - `setsid`, a daemon's double fork, a job-control
 * shell's `set -m` background job - escapes every group kill. What it keeps is its environment: each
 * run gets RPR_JOB_ID (one per rpr process) and RPR_RUN, inherited by everything it starts, so rpr
 * finds those processes in /proc/PID/environ and ends them (the cookie Jenkins' process tree killer
 * uses). /proc/PID/environ is the environment a process was exec'd with: one started with
 * RPR_JOB_ID removed (`env -u RPR_JOB_ID cmd`) is left alone, as are processes rpr may not read
 * (other users', setgid and other non-dumpable ones).
 */
// The pid keeps it unique among live processes; 48 random bits set it apart from an earlier rpr's
// that had the same pid. A cookie, not a secret (a run can read it): Math.random (seeded per
// process) does, and spares every job loading node:crypto.
export const JOB_ID = `${process.pid}.${Math.floor(Math.random() * 2 ** 48)
  .toString(16)
  .padStart(12, '0')}`;

/**
 * rpr run by a run of another rpr gives its own runs its own RPR_JOB_ID and RPR_RUN: the enclosing
 * job's are kept in RPR_LINEAGE ("JOB_ID:RUN" of each enclosing run, outermost first), so the outer
 * job still finds what the inner one leaves behind (if the outer kills the inner before it has
 * cleaned up). Empty for a job not run by another.
 */
const LINEAGE = [process.env.RPR_LINEAGE, process.env.RPR_JOB_ID && process.env.RPR_RUN ? `${process.env.RPR_JOB_ID}:${process.env.RPR_RUN}` : undefined]
  .filter((part): part is string => !!part)
  .join(' ');

/** The variables a run is given (next to RPR_RUN). */
export const TAG_ENV: Readonly<Record<string, string>> = LINEAGE ? { RPR_JOB_ID: JOB_ID, RPR_LINEAGE: LINEAGE } : { RPR_JOB_ID: JOB_ID };

/** This job's tag (of one run, or of any) in an environment read from /proc, NUL-separated with a leading NUL. */
function carriesTag(environ: string, run: number | undefined): boolean {
  if (environ.includes(`\0RPR_JOB_ID=${JOB_ID}\0`) && (run === undefined || environ.includes(`\0RPR_RUN=${run}\0`))) return true;
  const lineage = /\0RPR_LINEAGE=([^\0]*)/.exec(environ)?.[1];
  if (!lineage) return false;
  const mine = run === undefined ? (tag: string) => tag.startsWith(`${JOB_ID}:`) : (tag: string) => tag === `${JOB_ID}:${run}`;
  return lineage.split(' ').some(mine);
}

/** Environments are read this many at a time, off the event loop... */
const BATCH = 64;
/** ...and a read that takes longer (a process stuck in the kernel) is given up. */
const READ_LIMIT_MS = 500;
/** How often ending processes are looked for again. */
const POLL_MS = 100;

/**
 * The processes that may carry the tag. When every run was started by a launcher that adopts what
 * leaves a run's tree (launcher.py), they are all among its descendants: a handful of reads, where
 * every process's environment is read otherwise (hundreds on a busy machine, ~10 ms here).
 */
async function candidates(): Promise<string[]> {
  const roots = adopters();
  const found = roots && descendants(roots);
  if (found) return found;
  try {
    return await fs.readdir('/proc');
  } catch {
    return [];
  }
}

/** The children of every thread of `pid` (throws if it is gone). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ').filter(Boolean).map(Number));
}

/**
 * Every descendant of `roots`, from each thread's /proc/PID/task/TID/children (a list the kernel
 * keeps, read without touching the process's memory: it cannot block). Null if a root cannot be
 * read (gone, or a kernel without CONFIG_PROC_CHILDREN).
 */
function descendants(roots: number[]): string[] | null {
  let queue: number[];
  try {
    queue = roots.flatMap(childrenOf);
  } catch {
    return null;
  }
  const seen = new Set<number>(roots);
  for (let i = 0; i < queue.length; i++) {
    const pid = queue[i]!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    try {
      queue.push(...childrenOf(pid));
    } catch {
      // gone meanwhile: its children, if any, are the launcher's now and are read next time
    }
  }
  return [...seen].filter((pid) => !roots.includes(pid)).map(String);
}

/**
 * Signals every live process carrying this job's RPR_JOB_ID (and RPR_RUN=run when given) right
 * after reading its environment: a pid read a while ago may be someone else's by now. Resolves to
 * the pids found.
 */
async function signalTagged(run: number | undefined, signalOf: (pid: number) => NodeJS.Signals | null): Promise<number[]> {
  const entries = await candidates();
  const found: number[] = [];
  const visit = async (entry: string): Promise<void> => {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57 || Number(entry) === process.pid) return;
    let environ: string;
    try {
      // A zombie's environment reads empty; another user's cannot be read at all.
      environ = `\0${await fs.readFile(`/proc/${entry}/environ`, 'latin1')}`;
    } catch {
      return;
    }
    if (!carriesTag(environ, run)) return;
    const pid = Number(entry);
    found.push(pid);
    const signal = signalOf(pid);
    if (signal) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
    }
  };
  for (let i = 0; i < entries.length; i += BATCH) {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, READ_LIMIT_MS)));
    await Promise.race([Promise.all(entries.slice(i, i + BATCH).map(visit)), limit]);
    clearTimeout(timer);
  }
  return found;
}

/**
 * Ends the tagged processes (of one run, or of the whole job): SIGTERM, then SIGKILL to those still
 * there after graceMs. Looks again while it waits: a process may start another before it ends (a
 * fork bomb is given up on 2 s after the grace period). Resolves to how many were found.
 */
export async function endTagged(graceMs: number, run?: number): Promise<number> {
  const seen = new Set<number>();
  const deadline = monotonicMs() + graceMs;
  for (;;) {
    const late = monotonicMs() >= deadline;
    const found = await signalTagged(run, (pid) => (late ? 'SIGKILL' : seen.has(pid) ? null : 'SIGTERM'));
    found.forEach((pid) => seen.add(pid));
    if (found.length === 0 || monotonicMs() > deadline + 2000) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return seen.size;
}
