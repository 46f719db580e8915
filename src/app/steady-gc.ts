/**
 * V8's memory reducer, on a heap that has had no full collection yet, starts as soon as the old
 * generation has grown 1 MB past its size after start-up, which rpr's does while its modules load;
 * 8 s later it runs compacting collections to give memory back. On rpr's heap of 5-7 MB each is a
 * 3-7 ms pause of rpr's thread, and a run that comes due in it starts that much late: the late run
 * of a job every 100 ms, at 8.2 s (start-time error p99, docs/BENCHMARKS.md). With V8's
 * `--no-memory-reducer-for-small-heaps` the reducer waits for the heap's first full collection,
 * that is for a heap that grew. V8 reads the flag as the heap grows, so it must be set before the
 * job's modules load (cli/bin.ts); set later, the reducer is already on its way. V8's flags are also
 * part of a code cache's key: a job's chunks have caches made with it set (cli/code-cache.ts).
 */
import { setFlagsFromString } from 'node:v8';

export function keepSmallHeapSteady(): void {
  setFlagsFromString('--no-memory-reducer-for-small-heaps');
}
