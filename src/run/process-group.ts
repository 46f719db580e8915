import { isZombie, readProcStat, readProcStats } from './proc.js';

/**
 * Process groups of runs that may still have members. A run's direct child
 * can exit while a background grandchild lives on in its group; those groups
 * are remembered so that shutdown leaves nothing behind.
 */
const groups = new Set<number>();
/**
 * Groups whose leader (the run's main process) has exited and been reaped. Its number cannot be
 * given to another process while the group has members; once it is free, an unrelated process may
 * get it as its pid and lead a group of that number (pid_max is 32768 on many systems, so a long
 * job wraps around). A live process whose pid is such a group's number is therefore not ours.
 */
const leaderGone = new Set<number>();

export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty; EPERM cannot happen for our own children
  }
}

export function trackGroup(pgid: number): void {
  // Forget groups that have emptied, so that the set stays small over a long job.
  for (const known of groups) if (!signalGroup(known, 0)) forget(known);
  groups.add(pgid);
  leaderGone.delete(pgid);
}

/** The run leading `pgid` has exited and was reaped: from now on only leftovers can be in its group. */
export function leaderExited(pgid: number): void {
  if (!signalGroup(pgid, 0)) forget(pgid);
  else if (groups.has(pgid)) leaderGone.add(pgid);
}

function forget(pgid: number): void {
  groups.delete(pgid);
  leaderGone.delete(pgid);
}

/** A live (not zombie) process has this pid. */
function processIsLive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && !isZombie(stat);
}

/**
 * Process groups with at least one member that is not a zombie, read from
 * /proc; null where /proc cannot be read. kill(-pgid, 0) alone also counts
 * zombies: an orphaned grandchild that has died stays in its group until init
 * reaps it, which some inits do only every second or two, and there is
 * nothing left to stop in it.
 */
function groupsWithLiveMembers(): Set<number> | null {
  const stats = readProcStats();
  return stats && new Set(stats.filter((stat) => !isZombie(stat)).map((stat) => stat.pgrp));
}

/** Whether a group still has a member that is not a zombie. */
export function groupIsLive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  return groupsWithLiveMembers()?.has(pgid) ?? true;
}

/** Groups that still have a live (non-zombie) member; forgets the others. */
export function liveGroups(): number[] {
  for (const pgid of groups) {
    // Emptied, or its number now leads someone else's group: not ours to signal.
    if (!signalGroup(pgid, 0) || (leaderGone.has(pgid) && processIsLive(pgid))) forget(pgid);
  }
  if (groups.size === 0) return [];
  const live = groupsWithLiveMembers();
  if (live) for (const pgid of groups) if (!live.has(pgid)) forget(pgid);
  return [...groups];
}
