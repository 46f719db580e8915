// Helpers for the --coordinate end-to-end tests: rpr instances of one job, each run appending one
// line to a shared file - the slot it stands for ($RPR_SCHEDULED_AT), the instance, and the real
// (unfaked) time the run started and ended - and the checks on that ground truth: no slot twice, and
// no slot missing unless an instance said (--verbose) it was skipped because a run was going on.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { HAVE_REDIS, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { cleanup, start, type Running } from './core-helpers.js';

export const EVERY = 200;

export interface RunLine {
  /** The slot ($RPR_SCHEDULED_AT), epoch ms. */
  at: number;
  instance: string;
  /** Real time (date, outside any faked clock) the run's command started and ended. */
  start: number;
  end: number;
}

export const readRuns = (file: string): RunLine[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [iso, instance, startMs, endMs] = line.split(' ');
          return { at: Date.parse(iso!), instance: instance!, start: Number(startMs), end: Number(endMs) };
        })
        .sort((a, b) => a.at - b.at)
    : [];

/** Slots run more than once. */
export const doubles = (runs: RunLine[]): string[] => runs.filter((r, i) => i > 0 && runs[i - 1]!.at === r.at).map((r) => new Date(r.at).toISOString());

/**
 * Slots (ISO) the instances said --verbose they skipped because a run went on elsewhere, each with the
 * slot of that run: "slot 7 (ISO) skipped: due while the run of slot 6 (ISO) on HOST:PID went on".
 */
export function skipsSaid(stderrs: string[]): Map<string, string> {
  const said = new Map<string, string>();
  for (const text of stderrs) {
    for (const m of text.matchAll(/^rpr: coordination: (?:slot \d+|fire time) \(?(\S+?)\)? skipped: due while the run of (?:slot \d+|fire time) \(?(\S+?)\)? on \S+ went on/gm)) said.set(m[1]!, m[2]!);
  }
  return said;
}

/**
 * Slots between the first and last run that nobody ran and nobody said was skipped because of a run
 * that really ran (it is in the file): lost slots. `every` apart, from the first run.
 */
export function lost(runs: RunLine[], stderrs: string[], every = EVERY): string[] {
  if (runs.length === 0) return [];
  const ran = new Set(runs.map((r) => r.at));
  const said = skipsSaid(stderrs);
  const out: string[] = [];
  for (let t = runs[0]!.at; t <= runs.at(-1)!.at; t += every) {
    if (ran.has(t)) continue;
    const iso = new Date(t).toISOString();
    const during = said.get(iso);
    if (during === undefined || !ran.has(Date.parse(during))) out.push(iso);
  }
  return out;
}

/** Real time now in ms, whatever clock rpr (and so the run) was given: the run's ground truth. */
const REAL_MS = 'env -u LD_PRELOAD -u FAKETIME date +%s%3N';

export interface InstanceOptions {
  url: string;
  extra?: string[];
  forMs?: number;
  /** Each run sleeps this long (seconds) between its start and end marks. */
  runSeconds?: number;
  env?: Record<string, string | undefined>;
  /** The schedule (default interval --every 200ms). */
  schedule?: string[];
}

/** One instance of the job (interval --every 200ms unless told) with --verbose, appending "<slot> <label> <start> <end>" to `file`. */
export function instance(name: string, file: string, label: string, options: InstanceOptions): Running {
  const forMs = options.forMs ?? 5000;
  const work = options.runSeconds ? `sleep ${options.runSeconds}; ` : '';
  const script = `s=$(${REAL_MS}); ${work}echo "$RPR_SCHEDULED_AT ${label} $s $(${REAL_MS})" >> ${file}`;
  return start(
    [
      ...(options.schedule ?? ['interval', '--every', `${EVERY}ms`]),
      '--for',
      `${forMs}ms`,
      '--coordinate',
      options.url,
      '--name',
      name,
      '--verbose',
      ...(options.extra ?? []),
      '--',
      'sh',
      '-c',
      script,
    ],
    {
      timeoutMs: forMs + 25_000,
      ...(options.env ? { env: options.env } : {}),
    },
  );
}

/** Until every instance has joined the job in Redis (--verbose says so). */
export const joined = (instances: Running[], timeoutMs = 15_000): Promise<unknown[]> =>
  Promise.all(instances.map((i) => i.waitFor('stderr', /^rpr: coordination: job "[^"]+": slots every/m, timeoutMs)));

/**
 * The file's redis-server, started before its first test where redis-server is installed; every rpr
 * instance a test started is gone after it, and Redis after the last test. A test that stopped Redis
 * finds it started again for the next one.
 */
export function useRedis(): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    if (HAVE_REDIS) server = await startRedis();
  });
  afterEach(async () => {
    await cleanup();
    await server?.start().catch(() => undefined);
  });
  afterAll(async () => {
    await cleanup();
    await server?.dispose();
  });
  return () => {
    if (!server) throw new Error('no redis-server: the test needs HAVE_REDIS');
    return server;
  };
}
