/**
 * The machine's load for rpr_system_load: CPU busy % since the previous reading, memory used %,
 * load averages. Read by the host (a plugin has no way to see the machine), and injectable so tests
 * can feed a fake load.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface SystemLoad {
  cpu_percent: number;
  memory_percent: number;
  load1: number;
  load5: number;
  load15: number;
  cores: number;
}

export type SystemLoadSource = () => SystemLoad;

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/** MemAvailable counts reclaimable cache as free, which os.freemem() does not. */
function memoryPercent(): number {
  try {
    const info = readFileSync('/proc/meminfo', 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(info)?.[1]);
    const total = kb('MemTotal');
    const available = kb('MemAvailable');
    if (total > 0 && available >= 0) return (100 * (total - available)) / total;
  } catch {
    // not Linux: fall through
  }
  return (100 * (os.totalmem() - os.freemem())) / os.totalmem();
}

export function createSystemLoadSource(): SystemLoadSource {
  let last = cpuTimes();
  return () => {
    const now = cpuTimes();
    const dt = now.total - last.total;
    const cpu = dt > 0 ? (100 * (now.busy - last.busy)) / dt : 0;
    last = now;
    const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg();
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
      cpu_percent: round(cpu),
      memory_percent: round(memoryPercent()),
      load1: round(load1),
      load5: round(load5),
      load15: round(load15),
      cores: os.availableParallelism?.() ?? os.cpus().length,
    };
  };
}
