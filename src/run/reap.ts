import { monotonicMs } from '../clock/clock.js';
import { liveGroups, signalGroup } from './process-group.js';
import { endTagged } from './tagged.js';

/**
 * Ends what runs left behind: background grandchildren still in a run's
 * process group after its main process exited, and processes that left the
 * group but carry the job's RPR_JOB_ID. SIGTERM first, SIGKILL to whatever
 * remains after the grace period.
 */
export async function reapLeftovers(graceMs: number): Promise<void> {
  await Promise.all([reapGroups(graceMs), endTagged(graceMs)]);
}

async function reapGroups(graceMs: number): Promise<void> {
  const groups = liveGroups();
  if (groups.length === 0) return;
  groups.forEach((pgid) => signalGroup(pgid, 'SIGTERM'));
  const deadline = monotonicMs() + graceMs;
  while (liveGroups().length > 0 && monotonicMs() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  liveGroups().forEach((pgid) => signalGroup(pgid, 'SIGKILL'));
}
