import { liveGroups, signalGroup } from './process-group.js';

/**
 * Ends what runs left behind: background grandchildren still in a run's
 * process group after its main process exited. SIGTERM first, SIGKILL to
 * whatever remains after the grace period.
 */
export async function reapGroups(graceMs: number): Promise<void> {
  const groups = liveGroups();
  if (groups.length === 0) return;
  groups.forEach((pgid) => signalGroup(pgid, 'SIGTERM'));
  const deadline = performance.now() + graceMs;
  while (liveGroups().length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  liveGroups().forEach((pgid) => signalGroup(pgid, 'SIGKILL'));
}
