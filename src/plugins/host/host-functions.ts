/**
 * The rpr host functions (module extism:host/user), built per plugin from its effective
 * permissions. All of them are always provided - a module whose import is missing cannot be
 * instantiated at all - and one the plugin was not granted answers the contract's "denied" value
 * and reports the attempt. None of them throws: in worker mode a throwing host function kills the
 * instance, and a plugin must not be able to crash itself through us.
 */
import { randomBytes } from 'node:crypto';
import { CONTRACT, type HostFunctionPermission } from '../contract.js';
import type { Grant } from '../errors.js';
import type { Permissions } from '../manifest/types.js';
import type { CallContext } from './extism.js';
import type { SystemLoadSource } from './system-load.js';

export interface HostFunctionContext {
  plugin: string;
  permissions: Permissions;
  systemLoad: SystemLoadSource;
  /** Publishes on the bus; the host checked the permission and the payload. */
  publish: (topic: string, payload: unknown) => void;
  /** Reports a refused use (what was asked, why). */
  denied: (what: string, detail: string, grant: Grant) => void;
  /** Reports a host function used wrongly (bad offsets, bad JSON): not a permission matter. */
  misuse: (fn: string, detail: string) => void;
  /** Counts host calls in flight. */
  enter: () => void;
  leave: () => void;
}

type HostFn = (ctx: CallContext, ...args: bigint[]) => bigint | number;

const { limits } = CONTRACT;

function random(): number {
  // 53 random bits -> [0, 1), from the OS's CSPRNG.
  const b = randomBytes(8);
  return Number(b.readBigUInt64BE() >> 11n) / 2 ** 53;
}

/**
 * rc13 addresses a memory block as index << 48 (offset bits zero); block 0 is a placeholder. Any
 * other number is not something the plugin got from alloc, and ctx.read() would happily map it to
 * block 0.
 */
const OFFSET_BITS = (1n << 48n) - 1n;
const isBlockAddress = (addr: bigint) => typeof addr === 'bigint' && addr > OFFSET_BITS && (addr & OFFSET_BITS) === 0n;

function readText(ctx: CallContext, addr: bigint, maxBytes: number): string | undefined {
  if (!isBlockAddress(addr)) return undefined;
  const block = ctx.read(addr);
  if (block === null) return undefined;
  const bytes = block.bytes();
  if (bytes.length > maxBytes) return undefined;
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export function buildHostFunctions(c: HostFunctionContext): Record<string, HostFn> {
  const granted = (p: HostFunctionPermission) => c.permissions.hostFunctions.includes(p);
  const guard = (fn: string, permission: HostFunctionPermission, deniedValue: (ctx: CallContext) => bigint | number, body: HostFn): HostFn => {
    const safeDenied = (ctx: CallContext) => {
      try {
        return deniedValue(ctx);
      } catch {
        // Only block-returning functions can fail here, and they return i64 offsets.
        return 0n;
      }
    };
    return (ctx, ...args) => {
      c.enter();
      try {
        if (!granted(permission)) {
          c.denied(fn, `host function ${fn} denied: permission "${permission}" is not granted`, { key: 'host_functions', value: permission });
          return safeDenied(ctx);
        }
        return body(ctx, ...args);
      } catch (error) {
        c.misuse(fn, (error as Error)?.message ?? String(error));
        return safeDenied(ctx);
      } finally {
        c.leave();
      }
    };
  };

  return {
    rpr_time_ms: guard(
      'rpr_time_ms',
      'time',
      () => -1n,
      () => BigInt(Date.now()),
    ),
    rpr_random: guard(
      'rpr_random',
      'random',
      () => -1,
      () => random(),
    ),
    // Denied or not, the answer is a block of JSON: the plugin parses it the same way.
    rpr_system_load: guard(
      'rpr_system_load',
      'system-load',
      (ctx) => ctx.store(JSON.stringify({ error: 'rpr_system_load denied: permission "system-load" is not granted' })),
      (ctx) => ctx.store(JSON.stringify(c.systemLoad())),
    ),
    rpr_emit: guard(
      'rpr_emit',
      'emit',
      () => -1n,
      (ctx, topicAddr, payloadAddr) => {
        const topic = readText(ctx, topicAddr!, 256);
        const payloadText = readText(ctx, payloadAddr!, limits.emit_payload_bytes);
        if (topic === undefined || payloadText === undefined) {
          c.misuse('rpr_emit', `topic or payload missing or larger than ${limits.emit_payload_bytes} bytes`);
          return -2n;
        }
        if (!c.permissions.emit.includes(topic)) {
          c.denied('rpr_emit', `emit on topic "${topic}" denied: not in [permissions].emit`, { key: 'emit', value: topic });
          return -1n;
        }
        let payload: unknown;
        try {
          payload = JSON.parse(payloadText);
        } catch {
          c.misuse('rpr_emit', `payload for topic "${topic}" is not JSON`);
          return -2n;
        }
        c.publish(topic, payload);
        return 0n;
      },
    ),
  };
}
