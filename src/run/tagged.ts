import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * A process that leaves its run's process group - `setsid`, a daemon's double fork, a job-control
 * shell's `set -m` background job - escapes every group kill. What it keeps is its environment: each
 * run gets RPR_JOB_ID (one per rpr process) and RPR_RUN, inherited by everything it starts, so rpr
 * finds those processes in /proc/PID/environ and ends them (the cookie Jenkins' process tree killer
 * uses). A process that must outlive the job removes RPR_JOB_ID from its environment.
 */
export const JOB_ID = `${process.pid}.${randomBytes(6).toString('hex')}`;

/** Live processes carrying this job's RPR_JOB_ID (and RPR_RUN=run when given); [] without /proc. */
export function taggedProcesses(run?: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const job = `\0RPR_JOB_ID=${JOB_ID}\0`;
  const runTag = run === undefined ? '' : `\0RPR_RUN=${run}\0`;
  const found: number[] = [];
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57 || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      // Another user's process cannot be read (and is not ours); a zombie's environment is empty.
      environ = `\0${readFileSync(`/proc/${entry}/environ`, 'latin1')}`;
    } catch {
      continue;
    }
    if (environ.includes(job) && (runTag === '' || environ.includes(runTag))) found.push(Number(entry));
  }
  return found;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone meanwhile
  }
}

/**
 * Ends the tagged processes (of one run, or of the whole job): SIGTERM, then SIGKILL to those still
 * there after graceMs. Looks again while it waits: a process may start another before it ends (a
 * fork bomb is given up on 2 s after the grace period). Resolves to how many were found.
 */
export async function endTagged(graceMs: number, run?: number): Promise<number> {
  const seen = new Set<number>();
  const deadline = performance.now() + graceMs;
  for (;;) {
    const pids = taggedProcesses(run);
    const now = performance.now();
    if (pids.length === 0 || now > deadline + 2000) break;
    for (const pid of pids) {
      if (now >= deadline) signal(pid, 'SIGKILL');
      else if (!seen.has(pid)) signal(pid, 'SIGTERM');
      seen.add(pid);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return seen.size;
}
