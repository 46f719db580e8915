import { signalGroup, trackGroup } from './process-group.js';
import type { ProcessEnd, Spawned, SpawnRequest } from './process-types.js';

/**
 * A run whose process is started a moment after it is asked for: by the
 * launcher (its pid arrives with the `started` reply) or by execa once that
 * is loaded. Signals asked for before the pid is known are sent on arrival.
 * When it is handed on (to execa), it follows that process instead.
 */
export class PendingRun implements Spawned {
  readonly stdout = null;
  readonly stderr = null;
  readonly ended: Promise<ProcessEnd>;
  readonly exited: Promise<void>;
  private ownPid: number | undefined;
  private startedAt: number | undefined;
  private resolveEnd!: (end: ProcessEnd) => void;
  private delegate: Spawned | undefined;
  private queued: NodeJS.Signals[] = [];

  constructor(readonly request: SpawnRequest) {
    // Only runs whose output is inherited or discarded can wait: a piped stream must exist at once.
    if (request.stdout === 'pipe' || request.stderr === 'pipe') throw new Error('a run that pipes its output cannot be started later');
    this.ended = new Promise((resolve) => (this.resolveEnd = resolve));
    this.exited = this.ended.then(() => undefined);
  }

  /** A getter: the pid is known once started, and is the delegate's after a hand-over. */
  get pid(): number | undefined {
    return this.delegate ? this.delegate.pid : this.ownPid;
  }

  signal(name: NodeJS.Signals): void {
    if (this.delegate) this.delegate.signal(name);
    else if (this.ownPid === undefined) this.queued.push(name);
    else signalGroup(this.ownPid, name);
  }

  /** When the run's exec was done, on monotonicMs's clock; undefined when not known (execa). */
  get startedAtMs(): number | undefined {
    return this.delegate ? this.delegate.startedAtMs : this.startedAt;
  }

  started(pid: number, atMs?: number): void {
    this.ownPid = pid;
    this.startedAt = atMs;
    trackGroup(pid);
    for (const name of this.queued.splice(0)) signalGroup(pid, name);
  }

  /** Starts the run some other way (execa) and follows that process from now on. */
  handOver(start: (request: SpawnRequest) => Spawned): void {
    let child: Spawned;
    try {
      child = start(this.request);
    } catch {
      this.resolveEnd({ exitCode: null, signal: null, spawnError: 'ESPAWN' });
      return;
    }
    this.delegate = child;
    if (child.pid !== undefined) trackGroup(child.pid);
    for (const name of this.queued.splice(0)) child.signal(name);
    void child.ended.then(this.resolveEnd);
  }

  finish(end: ProcessEnd): void {
    this.resolveEnd(end);
  }
}
