/**
 * The connection to the job's Redis: the only file that uses ioredis (url.ts says how it connects:
 * to a server, or to the primary the sentinels name). It runs the coordination scripts (EVALSHA,
 * loaded again by ioredis after a Redis restart) with a time limit each; it confirms a claim once a
 * replica has it (WAIT); it reads Redis's time (TIME) and counts the primary's replicas (ROLE) at
 * each connection and every 10 s; and it knows whether Redis is usable: a lost connection, a failed,
 * unanswered or unacknowledged call marks it down, the next success (or ioredis' reconnection) marks
 * it up. Each change is said once, on stderr.
 */
import { Redis } from 'ioredis';
import { RprError } from '../errors/index.js';
import { Availability, type LinkEvents } from './availability.js';
import { SCRIPTS, type ScriptName } from './scripts.js';
import { RedisClock } from './time.js';
import { clientOptions, type RedisTarget } from './url.js';

export type { LinkEvents } from './availability.js';

export interface LinkOptions {
  /** How long the first connection may take before the job goes on without Redis. */
  connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts. */
  maxReconnectDelayMs?: number;
  /** The local monotonic clock that carries Redis's time between syncs (default performance.now). */
  mono?: () => number;
}

/** What a claim's replication came to: a replica has it, none is connected, or none said so in time. */
export type Confirmation = 'confirmed' | 'no-replica' | 'unconfirmed';

/** Redis's error replies start with their code: these mean the credentials, not the connection. */
const AUTH_ERROR = /^(NOAUTH|WRONGPASS|NOPERM)\b/;
/** While connected but not answering, Redis is asked again at most this often... */
const PROBE_MS = 1000;
/** ...and given this long to answer. */
const PROBE_WAIT_MS = 2000;
/** How long a claim waits for a replica to acknowledge it (WAIT 1). */
const CONFIRM_MS = 1000;
/** Redis's time is read again, and its replicas counted, this often, in seconds (and at every connection). */
const REFRESH_S = 10;

class UnansweredError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms}ms`);
  }
}

export class RedisLink {
  readonly #client: Redis;
  readonly #target: RedisTarget;
  readonly #state: Availability;
  readonly #connectTimeoutMs: number;
  #lastError: string | undefined;
  #closed = false;
  /** While the first connection is being made, failures are not reported one by one. */
  #starting = true;
  #connecting: Promise<void> | undefined;
  #lastProbe = 0;
  /** Down because a call went unanswered on an open connection. */
  #stuck = false;
  #probeTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  /** Replicas connected to the primary, as ROLE said last. */
  #replicas = 0;
  readonly #mono: () => number;
  /** Redis's clock (time.ts): read at every connection and every REFRESH_S seconds. */
  readonly clock: RedisClock;

  constructor(target: RedisTarget, events: LinkEvents, options: LinkOptions = {}) {
    this.#target = target;
    this.#state = new Availability(events);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.#mono = options.mono ?? (() => performance.now());
    this.clock = new RedisClock(this.#mono, Date.now);
    this.#client = new Redis(clientOptions(target, this.#connectTimeoutMs, options.maxReconnectDelayMs ?? 500));
    // No fixed number of keys: each call says how many (a claim names every slot it may take).
    for (const [name, lua] of Object.entries(SCRIPTS)) this.#client.defineCommand(name, { lua });
    // Without a listener ioredis prints every failed reconnection; the reason is kept for the one message.
    this.#client.on('error', (error: Error) => void (this.#lastError = error.message));
    this.#client.on('close', () => this.#markDown(this.#lastError ?? 'connection closed'));
    this.#client.on('ready', () => {
      this.#markUp();
      // After a failover the primary is another server, with a clock and replicas of its own.
      if (!this.#starting) void this.#refresh();
    });
  }

  /**
   * Reads Redis's time (`samples` TIME calls in a row, the first sent with a ROLE that counts the
   * replicas); a failure keeps what was known.
   */
  async #refresh(samples?: number): Promise<void> {
    const replicas = this.#countReplicas().catch(() => undefined);
    // Redis away: the next connection refreshes again.
    await this.clock.sync(() => this.#timed(this.#client.time(), PROBE_WAIT_MS), samples).catch(() => undefined);
    await replicas;
  }

  /** Reads Redis's time again now (a claim found this host's reading of it off). */
  resync(): void {
    void this.#refresh();
  }

  async #countReplicas(): Promise<void> {
    const role = (await this.#timed(this.#client.call('ROLE'), PROBE_WAIT_MS)) as unknown[];
    this.#replicas = role[0] === 'master' && Array.isArray(role[2]) ? role[2].length : 0;
  }

  /**
   * After a claim: waits (WAIT 1) until a replica has every write this connection made, at most
   * `timeoutMs`, so that a failover promoting that replica cannot forget the claim. Without a
   * connected replica there is nothing to wait for (and no replica a failover could promote).
   */
  async confirm(timeoutMs: number): Promise<Confirmation> {
    if (this.#replicas === 0) return 'no-replica';
    try {
      const acked = await this.#timed(this.#client.wait(1, timeoutMs), timeoutMs + PROBE_WAIT_MS);
      if (acked >= 1) return 'confirmed';
      await this.#countReplicas();
    } catch {
      return 'unconfirmed';
    }
    return this.#replicas === 0 ? 'no-replica' : 'unconfirmed';
  }

  get target(): RedisTarget {
    return this.#target;
  }

  /** Redis answered the last time it was asked, and the connection is open. */
  get usable(): boolean {
    return this.#state.usable && this.#client.status === 'ready';
  }

  /**
   * Worth asking now: Redis answers. Down because a script failed with an error reply (READONLY
   * after a failover, NOPERM, OOM), the next call is the probe, once a second: a PING would answer
   * while the scripts still fail. Down because Redis stopped answering while the connection stays
   * open, a PING probes it in the background (see #probeWhileStuck): a claim never waits on a Redis
   * known to be stuck. A closed connection comes back through ioredis' reconnection.
   */
  mayAsk(): boolean {
    if (this.usable) return true;
    if (this.#closed || this.#stuck || this.#client.status !== 'ready' || Date.now() - this.#lastProbe < PROBE_MS) return false;
    this.#lastProbe = Date.now();
    return true;
  }

  /** Once a second while Redis does not answer on an open connection: a PING; its answer marks Redis up. */
  #probeWhileStuck(): void {
    if (this.#probeTimer) return;
    let probing = false;
    this.#probeTimer = setInterval(() => {
      if (probing || this.#client.status !== 'ready') return;
      probing = true;
      this.#timed(this.#client.ping(), PROBE_WAIT_MS)
        .then(() => this.#markUp())
        .catch(() => undefined)
        .finally(() => (probing = false));
    }, PROBE_MS);
    // The job's own timers keep rpr alive, not this one.
    this.#probeTimer.unref();
  }

  #stopProbing(): void {
    clearInterval(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#stuck = false;
  }

  /**
   * Connects, waiting at most the connect timeout. Redis being away is not an error (the job goes
   * on as --on-coordination-loss says, and ioredis keeps trying); being refused is.
   */
  connect(): Promise<void> {
    return (this.#connecting ??= this.#connect());
  }

  async #connect(): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      if (this.#client.status === 'ready') return resolve();
      this.#client.once('ready', () => resolve());
    });
    this.#client.connect().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#connectTimeoutMs)));
    await Promise.race([ready, timeout]);
    clearTimeout(timer);
    this.#starting = false;
    if (this.#closed) return;
    // Read again 1, 2 and 4 s after the start too: the first readings of a busy start-up are the worst.
    let tick = 0;
    this.#refreshTimer = setInterval(() => {
      tick++;
      if (this.#client.status === 'ready' && (tick % REFRESH_S === 0 || tick === 1 || tick === 2 || tick === 4)) void this.#refresh();
    }, 1000);
    this.#refreshTimer.unref();
    if (this.#client.status === 'ready') {
      // Redis's time before the first slot is computed from it: one round trip, then a better reading.
      await this.#refresh(1);
      void this.#refresh();
      return this.#markUp();
    }
    if (this.#lastError && AUTH_ERROR.test(this.#lastError)) {
      const reason = this.#lastError;
      this.close();
      throw new RprError('E_COORDINATION', `coordination: Redis at ${this.#target.shown} refused this instance: ${reason}`, {
        hint: 'check the user and password in the URL, or RPR_REDIS_PASSWORD',
      });
    }
    this.#markDown(this.#lastError ?? `no connection within ${this.#connectTimeoutMs}ms`);
  }

  /** Runs a coordination script; throws when Redis does not answer within `timeoutMs` (and marks it down). */
  async call(script: ScriptName, keys: string[], args: (string | number)[], timeoutMs: number): Promise<string[]> {
    const answer = await this.#call(script, keys, args, timeoutMs);
    this.#markUp();
    return answer;
  }

  /**
   * A claim: its answer stands once a replica has what the script wrote (confirm; every claim writes,
   * if only the job's shape key's expiry). `unconfirmed` means none said so in time - the primary
   * may be cut off, about to be replaced by a replica that never saw the claim - and Redis then
   * counts as away until a claim is confirmed again (probed once a second, as after an error reply).
   */
  async callReplicated(script: ScriptName, keys: string[], args: (string | number)[], timeoutMs: number): Promise<{ answer: string[]; replicated: Confirmation }> {
    const answer = await this.#call(script, keys, args, timeoutMs);
    const replicated = await this.confirm(CONFIRM_MS);
    if (replicated === 'unconfirmed') this.#markDown(`no replica acknowledged a claim within ${CONFIRM_MS}ms`);
    else this.#markUp();
    return { answer, replicated };
  }

  /** A script whose outcome says nothing about whether Redis is usable (giving back what a claim took). */
  async callAside(script: ScriptName, keys: string[], args: (string | number)[], timeoutMs: number): Promise<void> {
    await this.#call(script, keys, args, timeoutMs, true).catch(() => undefined);
  }

  async #call(script: ScriptName, keys: string[], args: (string | number)[], timeoutMs: number, aside = false): Promise<string[]> {
    const run = (this.#client as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<unknown>>)[script];
    try {
      const answer = await this.#timed(run.call(this.#client, keys.length, ...keys, ...args), timeoutMs);
      return (Array.isArray(answer) ? answer : [answer]).map(String);
    } catch (error) {
      if (aside) throw error;
      // On a connection that is not ready, the reason is the one ioredis saw when it went.
      const closed = this.#client.status !== 'ready';
      this.#markDown(closed ? (this.#lastError ?? 'connection closed') : error instanceof Error ? error.message : String(error));
      if (error instanceof UnansweredError && !this.#closed) {
        this.#stuck = true;
        this.#probeWhileStuck();
      }
      throw error;
    }
  }

  async #timed<T>(call: Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([call, new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new UnansweredError(timeoutMs)), timeoutMs)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopProbing();
    clearInterval(this.#refreshTimer);
    this.#state.end();
    this.#client.disconnect();
  }

  #markDown(reason: string): void {
    if (this.#closed || this.#starting) return;
    this.#state.down(reason);
  }

  #markUp(): void {
    if (this.#closed || this.#starting || this.#client.status !== 'ready') return;
    this.#stopProbing();
    this.#lastError = undefined;
    this.#state.up();
  }
}
