import { readdirSync, readFileSync } from 'node:fs';

/**
 * Process groups of runs that may still have members. A run's direct child
 * can exit while a background grandchild lives on in its group; those groups
 * are remembered so that shutdown leaves nothing behind.
 */
const groups = new Set<number>();

export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty; EPERM cannot happen for our own children
  }
}

export function trackGroup(pgid: number): void {
  groups.add(pgid);
}

/**
 * Process groups with at least one member that is not a zombie, read from
 * /proc; null where /proc cannot be read. kill(-pgid, 0) alone also counts
 * zombies: an orphaned grandchild that has died stays in its group until init
 * reaps it, which some inits do only every second or two, and there is
 * nothing left to stop in it.
 */
function groupsWithLiveMembers(): Set<number> | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const live = new Set<number>();
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // ended while we looked
    }
    // pid (comm) state ppid pgrp ...: comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X' || state === 'x') continue;
    live.add(Number(fields[2]));
  }
  return live;
}

/** Whether a group still has a member that is not a zombie. */
export function groupIsLive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  return groupsWithLiveMembers()?.has(pgid) ?? true;
}

/** Groups that still have a live (non-zombie) member; forgets the others. */
export function liveGroups(): number[] {
  for (const pgid of groups) if (!signalGroup(pgid, 0)) groups.delete(pgid);
  if (groups.size === 0) return [];
  const live = groupsWithLiveMembers();
  if (live) for (const pgid of groups) if (!live.has(pgid)) groups.delete(pgid);
  return [...groups];
}
