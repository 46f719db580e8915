/**
 * The connection to the job's Redis: the only file that imports ioredis. It runs the coordination
 * scripts (EVALSHA, loaded again by ioredis after a Redis restart) with a time limit each, and it
 * knows whether Redis is usable: a lost connection, a failed or unanswered call marks it down, the
 * next success (or ioredis' reconnection) marks it up. Each change is said once, on stderr.
 */
import { Redis } from 'ioredis';
import { RprError } from '../errors/index.js';
import { SCRIPTS, type ScriptName } from './scripts.js';
import type { RedisTarget } from './url.js';

export interface LinkEvents {
  /** Redis became unusable (`first`: it never was since the job started). */
  down(reason: string, first: boolean): void;
  /** Redis answers again after being down for `downMs`. */
  up(downMs: number): void;
}

export interface LinkOptions {
  /** How long the first connection may take before the job goes on without Redis. */
  connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts. */
  maxReconnectDelayMs?: number;
}

const AUTH_ERROR = /^(NOAUTH|WRONGPASS|NOPERM)\b/;
/** While connected but not answering, Redis is asked again at most this often... */
const PROBE_MS = 1000;
/** ...and given this long to answer. */
const PROBE_WAIT_MS = 2000;

class UnansweredError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms}ms`);
  }
}

export class RedisLink {
  readonly #client: Redis;
  readonly #target: RedisTarget;
  readonly #events: LinkEvents;
  readonly #connectTimeoutMs: number;
  #usable = false;
  #everUp = false;
  #downSince: number | undefined;
  #lastError: string | undefined;
  #closed = false;
  /** While the first connection is being made, failures are not reported one by one. */
  #starting = true;
  #connecting: Promise<void> | undefined;
  #lastProbe = 0;
  /** Down because a call went unanswered on an open connection. */
  #stuck = false;
  #probeTimer: NodeJS.Timeout | undefined;

  constructor(target: RedisTarget, events: LinkEvents, options: LinkOptions = {}) {
    this.#target = target;
    this.#events = events;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    const maxDelay = options.maxReconnectDelayMs ?? 500;
    this.#client = new Redis({
      host: target.host,
      port: target.port,
      db: target.db,
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
      ...(target.tls ? { tls: {} } : {}),
      lazyConnect: true,
      // A call while Redis is away fails at once: waiting for it would hold up the slot, and
      // replaying it later would claim a slot long past.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: this.#connectTimeoutMs,
      retryStrategy: (attempt: number) => Math.min(50 * attempt, maxDelay),
    });
    // No fixed number of keys: each call says how many (a claim names every slot it may take).
    for (const [name, lua] of Object.entries(SCRIPTS)) this.#client.defineCommand(name, { lua });
    // Without a listener ioredis prints every failed reconnection; the reason is kept for the one message.
    this.#client.on('error', (error: Error) => void (this.#lastError = error.message));
    this.#client.on('close', () => this.#markDown(this.#lastError ?? 'connection closed'));
    this.#client.on('ready', () => this.#markUp());
  }

  get target(): RedisTarget {
    return this.#target;
  }

  /** Redis answered the last time it was asked, and the connection is open. */
  get usable(): boolean {
    return this.#usable && this.#client.status === 'ready';
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
    if (this.#client.status === 'ready') return this.#markUp();
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
    const run = (this.#client as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<unknown>>)[script];
    try {
      const answer = await this.#timed(run.call(this.#client, keys.length, ...keys, ...args), timeoutMs);
      this.#markUp();
      return (Array.isArray(answer) ? answer : [answer]).map(String);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // "Stream isn't writeable...": the connection is down; the reason is the one ioredis saw.
      const closed = /writeable|Connection is closed/.test(message);
      this.#markDown(closed ? (this.#lastError ?? 'connection closed') : message);
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
    this.#usable = false;
    this.#client.disconnect();
  }

  #markDown(reason: string): void {
    if (this.#closed || this.#starting) return;
    const wasUsable = this.#usable;
    this.#usable = false;
    if (this.#downSince !== undefined) return;
    this.#downSince = Date.now();
    this.#events.down(reason, !this.#everUp && !wasUsable);
  }

  #markUp(): void {
    if (this.#closed || this.#starting || this.#client.status !== 'ready') return;
    this.#stopProbing();
    this.#usable = true;
    this.#everUp = true;
    this.#lastError = undefined;
    if (this.#downSince === undefined) return;
    const downMs = Date.now() - this.#downSince;
    this.#downSince = undefined;
    this.#events.up(downMs);
  }
}
