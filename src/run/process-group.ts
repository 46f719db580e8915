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

/** Groups that still have a live member; forgets the empty ones. */
export function liveGroups(): number[] {
  for (const pgid of groups) if (!signalGroup(pgid, 0)) groups.delete(pgid);
  return [...groups];
}
