/**
 * The JSON messages of wit/ (snake_case on the wire), their TypeScript types, checks for what
 * plugins answer (an answer is untrusted input), and builders for what the host sends.
 */
import { hostname } from 'node:os';
import type { JobEvent } from '../job/events.js';
import { CONTRACT, type PluginKind } from './contract.js';
import { PluginError } from './errors.js';
import type { ConfigField } from './manifest/types.js';
import { packageFile } from '../package-files.js';

export interface Description {
  name: string;
  version: string;
  kind: PluginKind;
  abi: number;
  description?: string;
  config: Record<string, ConfigField>;
}

export interface Ack {
  ok: boolean;
  error?: string;
}

export interface SchedulerState {
  run: number;
  last_exit_code: number | null;
  success: boolean;
  duration_ms: number;
  consecutive_failures: number;
  output_tail: string;
  now_ms: number;
  started_ms: number;
  /** What the scheduler's last decision asked rpr to keep; null when nothing. Kept by the host, so it survives rebuilds. */
  kept?: unknown;
}

/** `keep`: present only when the plugin said it (null included: forget what was kept). */
export type Decision = ({ action: 'run'; delay_ms: number } | { action: 'stop'; reason: string; exit_code?: number }) & { message?: string; keep?: unknown };

/** A decision's message, as one bounded line: a plugin cannot flood or forge rpr's stderr. */
const MESSAGE_CHARS = 300;
function boundMessage(v: Record<string, unknown>): { message?: string } {
  if (typeof v.message !== 'string' || v.message === '') return {};
  const line = v.message
    .split(/[\r\n]/)[0]!
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .slice(0, MESSAGE_CHARS);
  return { message: line };
}

export interface ExecutorCommand {
  argv: string[];
  cwd: string;
  run: number;
}

export interface ExecutionPlan {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

export type WireJobEvent =
  | { type: 'job-start'; name: string; wall_ms: number; host: string }
  | { type: 'run-start'; run: number; due_ms: number; start_ms: number }
  | {
      type: 'run-end';
      run: number;
      due_ms: number;
      start_ms: number;
      end_ms: number;
      duration_ms: number;
      exit_code: number | null;
      signal: string | null;
      timed_out: boolean;
      success: boolean;
      decided_by: string;
      output_tail?: string;
    }
  | { type: 'skipped'; count: number }
  | { type: 'next'; run: number; due_ms: number }
  | { type: 'stopping'; wall_ms: number }
  | { type: 'job-end'; reason: string; exit_code: number; wall_ms: number };

export interface TopicMessage {
  topic: string;
  from: string;
  payload: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function malformed(plugin: string, fn: string, what: string): PluginError {
  return new PluginError(plugin, fn, 'malformed', `answer is not ${what}`, { hint: `see ${packageFile('wit/rpr-plugin.wit')} for the message shapes` });
}

export function checkDescription(plugin: string, v: unknown): Description {
  if (!isObj(v) || typeof v.name !== 'string' || typeof v.version !== 'string' || typeof v.abi !== 'number' || !CONTRACT.kinds.includes(v.kind as PluginKind)) {
    throw malformed(plugin, 'describe', 'a description {name, version, kind, abi, config}');
  }
  if (v.config !== undefined && !isObj(v.config)) throw malformed(plugin, 'describe', 'a description: config must be an object');
  return { ...(v as unknown as Description), config: (v.config ?? {}) as Description['config'] };
}

export function checkAck(plugin: string, fn: string, v: unknown): Ack {
  if (v === undefined) return { ok: true };
  if (!isObj(v) || typeof v.ok !== 'boolean' || (v.error !== undefined && typeof v.error !== 'string')) throw malformed(plugin, fn, '{ok: boolean, error?: string}');
  if (!v.ok) throw new PluginError(plugin, fn, 'plugin-error', typeof v.error === 'string' ? v.error : 'failed (no reason given)');
  return v as unknown as Ack;
}

/** Containers inside containers a kept value may have: JSON.stringify recurses (a deeper one overflowed the stack). */
const KEEP_DEPTH = 64;

/** Nesting depth of a parsed JSON value, counted without recursion, stopping past `limit`. */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > deepest) deepest = d + 1;
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

/**
 * A decision's `keep`, bounded: rpr holds it for the whole job and sends it back with every
 * state, so its size is capped (limits.kept_state_bytes, as compact UTF-8 JSON), and so is its
 * nesting.
 */
function boundKeep(plugin: string, v: Record<string, unknown>): { keep?: unknown } {
  if (!('keep' in v) || v.keep === undefined) return {};
  if (depthOf(v.keep, KEEP_DEPTH) > KEEP_DEPTH) {
    throw new PluginError(plugin, 'next', 'malformed', `answer is not a decision: its keep is nested more than ${KEEP_DEPTH} deep`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(v.keep), 'utf8');
  const max = CONTRACT.limits.kept_state_bytes;
  if (bytes > max) {
    throw new PluginError(plugin, 'next', 'malformed', `answer is not a decision: its keep is ${bytes} bytes of JSON, at most ${max} are kept`, {
      hint: 'keep a summary (a model, counters), not a history',
    });
  }
  return { keep: v.keep };
}

export function checkDecision(plugin: string, v: unknown): Decision {
  if (isObj(v) && v.action === 'run' && typeof v.delay_ms === 'number' && Number.isFinite(v.delay_ms) && v.delay_ms >= 0) {
    return { action: 'run', delay_ms: v.delay_ms, ...boundMessage(v), ...boundKeep(plugin, v) };
  }
  if (isObj(v) && v.action === 'stop' && typeof v.reason === 'string') {
    if (v.exit_code === undefined || v.exit_code === null) return { action: 'stop', reason: v.reason, ...boundMessage(v), ...boundKeep(plugin, v) };
    if (typeof v.exit_code === 'number' && Number.isInteger(v.exit_code) && v.exit_code >= 0 && v.exit_code <= 255) {
      return { action: 'stop', reason: v.reason, exit_code: v.exit_code, ...boundMessage(v), ...boundKeep(plugin, v) };
    }
  }
  throw malformed(plugin, 'next', '{action: "run", delay_ms >= 0} or {action: "stop", reason, exit_code?: 0-255}');
}

export function checkPlanShape(plugin: string, v: unknown): ExecutionPlan {
  if (!isObj(v) || !isStringArray(v.argv) || v.argv.length === 0 || v.argv[0] === '' || typeof v.cwd !== 'string') {
    throw malformed(plugin, 'plan', '{argv: [program, ...args], env: {}, cwd}');
  }
  const env = v.env ?? {};
  if (!isObj(env) || Object.values(env).some((x) => typeof x !== 'string')) throw malformed(plugin, 'plan', 'a plan: env must map names to strings');
  return { argv: v.argv, env: env as Record<string, string>, cwd: v.cwd };
}

/** The last `maxBytes` bytes of `text` as UTF-8, never splitting a character. */
export function boundTail(text: string, maxBytes = CONTRACT.limits.output_tail_bytes): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let start = bytes.length - maxBytes;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}

export function schedulerState(state: SchedulerState): SchedulerState {
  return { ...state, output_tail: boundTail(state.output_tail), kept: state.kept ?? null };
}

/** The machine's name, for job-start (outputs label what they send with it). Read once. */
let host: string | undefined;
const machine = (): string => (host ??= hostname());

/** Wall times to the microsecond: the sub-ms float noise of monotonic arithmetic is not information. */
const us = (ms: number): number => Math.round(ms * 1000) / 1000;

/** A job event as output plugins receive it. */
export function toWireEvent(event: JobEvent, outputTail?: string): WireJobEvent {
  switch (event.type) {
    case 'job-start':
      return { type: 'job-start', name: event.name, wall_ms: event.wall, host: machine() };
    case 'run-start':
      return { type: 'run-start', run: event.run, due_ms: us(event.dueWall), start_ms: us(event.startWall) };
    case 'run-end': {
      const r = event.result;
      return {
        type: 'run-end',
        run: r.run,
        due_ms: us(r.dueWall),
        start_ms: us(r.startWall),
        end_ms: us(r.endWall),
        duration_ms: us(r.durationMs),
        exit_code: r.exitCode,
        signal: r.signal,
        timed_out: r.timedOut,
        success: r.success,
        decided_by: r.decidedBy,
        ...(outputTail === undefined ? {} : { output_tail: boundTail(outputTail) }),
      };
    }
    case 'skipped':
      return { type: 'skipped', count: event.count };
    case 'next':
      return { type: 'next', run: event.run, due_ms: us(event.dueWall) };
    case 'stopping':
      return { type: 'stopping', wall_ms: event.wall };
    case 'job-end':
      return { type: 'job-end', reason: event.reason, exit_code: event.exitCode, wall_ms: event.wall };
    case 'delay-hint':
    case 'coordination':
      // Not part of ABI 1: rpr reports them on its own channels (verbose, health, metrics), never to plugins.
      throw new Error(`${event.type} events are not delivered to output plugins`);
  }
}

/** Job events that ABI 1 delivers to output plugins. */
export const WIRE_EVENT_TYPES: ReadonlySet<JobEvent['type']> = new Set(['job-start', 'run-start', 'run-end', 'skipped', 'next', 'stopping', 'job-end']);
