// predictive's model of the machine: the load it has read (an exponential average, the "level", and
// a daily profile of 96 quarter hours in UTC) and the command's own durations. Everything here is
// plain data that goes to rpr with each decision (keep) and comes back with the next state (kept),
// so a rebuilt instance predicts exactly what the old one would have.
import { JValue } from "../lib/json";

export const BUCKETS: i32 = 96;
const BUCKET_MS: f64 = 900_000;
const DAY_MS: f64 = 86_400_000;
/** Weight of the newest reading in the level, and of the newest duration in the duration average. */
const ALPHA: f64 = 0.3;
/** A quarter hour's average weighs at most this many readings: old days fade out. */
const WEIGHT_CAP: f64 = 8;
/** How much the level pulls a quarter hour's average (as if it were this many readings). */
const PRIOR: f64 = 0.5;
/** How fast the last reading stops mattering for moments ahead (ms): the near future looks like now. */
const TAU_MS: f64 = 600_000;
/** A quarter hour never read is predicted this much below the level, so it gets tried once. */
const EXPLORE: f64 = 0.9;
/** What is kept: bump when its shape changes, so an older blob is not misread. */
export const KEPT_VERSION: f64 = 1;

export function bucketOf(t: f64): i32 {
  const inDay = ((t % DAY_MS) + DAY_MS) % DAY_MS;
  return <i32>Math.min(<f64>(BUCKETS - 1), Math.floor(inDay / BUCKET_MS));
}

function round2(x: f64): f64 {
  return Math.round(x * 100) / 100;
}

export class Model {
  /** Exponential average of the readings; < 0 before the first. */
  level: f64 = -1;
  /** The last reading, and when it was taken. */
  current: f64 = 0;
  readAt: f64 = 0;
  readings: f64 = 0;
  /** Exponential average of the command's durations (ms); < 0 before the first run. */
  duration: f64 = -1;
  mean: StaticArray<f64> = new StaticArray<f64>(BUCKETS);
  weight: StaticArray<f64> = new StaticArray<f64>(BUCKETS);

  observe(now: f64, load: f64): void {
    this.current = load;
    this.readAt = now;
    this.readings += 1;
    this.level = this.level < 0 ? load : this.level + ALPHA * (load - this.level);
    const b = bucketOf(now);
    const w = Math.min(this.weight[b] + 1, WEIGHT_CAP);
    this.mean[b] = this.weight[b] == 0 ? load : this.mean[b] + (load - this.mean[b]) / w;
    this.weight[b] = w;
  }

  observeDuration(ms: f64): void {
    this.duration = this.duration < 0 ? ms : this.duration + ALPHA * (ms - this.duration);
  }

  /** Quarter hours of the day with at least one reading. */
  known(): i32 {
    let n = 0;
    for (let b = 0; b < BUCKETS; b++) if (this.weight[b] > 0) n++;
    return n;
  }

  /** The load expected at time of day t, from the profile and the level. */
  usual(t: f64): f64 {
    const b = bucketOf(t);
    const w = this.weight[b];
    if (w == 0) return this.level * EXPLORE;
    return (w * this.mean[b] + PRIOR * this.level) / (w + PRIOR);
  }

  /** Predicted load at t (>= now): the last reading for the near future, the usual load further on. */
  predict(t: f64, now: f64): f64 {
    if (this.level < 0) return 0;
    const near = Math.exp(-Math.max(0, t - now) / TAU_MS);
    return near * this.current + (1 - near) * this.usual(t);
  }

  /** Mean predicted load over [t, t + stretch), sampled at the middles of up to 16 equal parts. */
  cost(t: f64, stretch: f64, now: f64): f64 {
    if (stretch <= 0) return this.predict(t, now);
    const points = <i32>Math.min(16, Math.max(1, Math.ceil(stretch / 60_000)));
    let sum: f64 = 0;
    for (let i = 0; i < points; i++) sum += this.predict(t + (stretch * (<f64>i + 0.5)) / <f64>points, now);
    return sum / <f64>points;
  }

  toJson(period: f64): JValue {
    const k = JValue.object();
    k.set("v", JValue.number(KEPT_VERSION));
    k.set("period", JValue.number(period));
    k.set("level", JValue.number(round2(this.level)));
    k.set("current", JValue.number(round2(this.current)));
    k.set("read_at", JValue.number(this.readAt));
    k.set("readings", JValue.number(this.readings));
    k.set("duration", JValue.number(Math.round(this.duration)));
    const mean = JValue.array();
    const weight = JValue.array();
    for (let b = 0; b < BUCKETS; b++) {
      mean.items.push(JValue.number(round2(this.mean[b])));
      weight.items.push(JValue.number(this.weight[b]));
    }
    k.set("mean", mean);
    k.set("weight", weight);
    return k;
  }

  /** The model rpr kept, or null if there is none (or it is not one this version wrote). */
  static fromJson(k: JValue): Model | null {
    if (!k.isObject || k.num("v") != KEPT_VERSION) return null;
    const mean = k.get("mean");
    const weight = k.get("weight");
    if (mean === null || weight === null || mean.items.length != BUCKETS || weight.items.length != BUCKETS) return null;
    const m = new Model();
    m.level = k.num("level", -1);
    m.current = k.num("current");
    m.readAt = k.num("read_at");
    m.readings = k.num("readings");
    m.duration = k.num("duration", -1);
    for (let b = 0; b < BUCKETS; b++) {
      m.mean[b] = mean.items[b].n;
      m.weight[b] = Math.min(Math.max(weight.items[b].n, 0), WEIGHT_CAP);
    }
    return m;
  }
}
