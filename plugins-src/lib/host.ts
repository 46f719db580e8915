// rpr's host functions (module extism:host/user), wrapped. Each needs its permission in the
// plugin's [permissions] host_functions; without it the host answers the contract's "denied"
// value, which these wrappers turn into something a plugin can act on.
import { rpr_emit, rpr_random, rpr_system_load, rpr_time_ms } from "./env";
import { allocString, readBlockString } from "./io";
import { JValue, parse } from "./json";

/** Wall clock in ms since the epoch, or -1 when "time" is not granted. */
export function timeMs(): i64 {
  return rpr_time_ms();
}

/** A uniform number in [0, 1) (cryptographic), or -1 when "random" is not granted. */
export function random(): f64 {
  return rpr_random();
}

/** The machine's load, as the host measured it (permission "system-load"). */
export class SystemLoad {
  cpuPercent: f64 = 0;
  memoryPercent: f64 = 0;
  load1: f64 = 0;
  load5: f64 = 0;
  load15: f64 = 0;
  cores: i32 = 1;
  /** Empty when the reading worked; otherwise why not (denied, unreadable). */
  error: string = "";
}

export function systemLoad(): SystemLoad {
  const out = new SystemLoad();
  const v = parse(readBlockString(rpr_system_load()));
  if (v === null || !v.isObject) {
    out.error = "rpr_system_load answered something that is not JSON";
    return out;
  }
  if (v.has("error")) {
    out.error = v.str("error", "rpr_system_load failed");
    return out;
  }
  out.cpuPercent = v.num("cpu_percent");
  out.memoryPercent = v.num("memory_percent");
  out.load1 = v.num("load1");
  out.load5 = v.num("load5");
  out.load15 = v.num("load15");
  out.cores = <i32>Math.max(1, v.num("cores", 1));
  return out;
}

/** Publishes a JSON payload on a topic (permission "emit" and the topic in [permissions].emit). */
export function emit(topic: string, payload: JValue): i64 {
  return rpr_emit(allocString(topic), allocString(payload.toString()));
}

/**
 * A fast pseudo-random source (xorshift128+) seeded once from rpr_random, so that a plugin that
 * needs many draws pays for one host round trip (2-4 ms from a worker), not one per draw. If
 * "random" is denied it seeds from `fallbackSeed` (e.g. the clock in the scheduler state).
 */
export class Rng {
  private s0: u64 = 0;
  private s1: u64 = 0;
  private seeded: bool = false;

  next(fallbackSeed: f64): f64 {
    if (!this.seeded) {
      const a = rpr_random();
      const b = rpr_random();
      if (a >= 0 && b >= 0) {
        this.s0 = <u64>(a * 9007199254740992.0) ^ 0x9e3779b97f4a7c15;
        this.s1 = <u64>(b * 9007199254740992.0) ^ 0xbf58476d1ce4e5b9;
      } else {
        this.s0 = reinterpret<u64>(fallbackSeed) ^ 0x9e3779b97f4a7c15;
        this.s1 = 0x94d049bb133111eb;
      }
      if (this.s0 == 0 && this.s1 == 0) this.s1 = 1;
      this.seeded = true;
    }
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x ^= x << 23;
    x ^= x >> 17;
    x ^= y ^ (y >> 26);
    this.s1 = x;
    // 53 high bits of the sum -> [0, 1)
    return <f64>((x + y) >> 11) / 9007199254740992.0;
  }
}
