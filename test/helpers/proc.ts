/**
 * Measuring a running rpr from outside (issue 7): memory from /proc/PID/status, open file
 * descriptors from /proc/PID/fd, and a spawn that counts rpr's stdout instead of keeping it (jobs
 * that write hundreds of megabytes).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { RPR } from './cli.js';

interface Memory {
  /** Resident set size now, kB. */
  rssKb: number;
  /** Peak resident set size so far (VmHWM), kB. */
  hwmKb: number;
}

/** VmRSS and VmHWM of a live process; null once it is gone. */
function memoryOf(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** How many file descriptors the process has open; null once it is gone. */
function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

export interface Sample {
  /** ms since spawn. */
  at: number;
  rssKb: number;
  hwmKb: number;
  fds: number;
}

export interface CountedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdoutBytes: number;
  stdoutLines: number;
  /** Lines that do not start with `expectPrefix` (when given). */
  linesWithoutPrefix: number;
  stderr: string;
  /** Samples of rpr's memory and fds while it ran, the last one just before it exited. */
  samples: Sample[];
  /** VmHWM at the last sample: rpr's peak RSS over the whole job. */
  peakKb: number;
  ms: number;
}

export interface CountOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  sampleEveryMs?: number;
  expectPrefix?: string;
}

/**
 * Runs `rpr ...args`, counting stdout bytes and lines as they pass (nothing kept), sampling
 * rpr's RSS, VmHWM and fd count every `sampleEveryMs`.
 */
export function runCounting(args: string[], options: CountOptions = {}): Promise<CountedRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [RPR, ...args], {
    env: { ...process.env, RPR_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent', RPR_DEBUG: undefined, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  let bytes = 0;
  let newlines = 0;
  let withoutPrefix = 0;
  let atLineStart = true;
  const prefix = options.expectPrefix !== undefined ? Buffer.from(options.expectPrefix) : null;
  child.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      if (atLineStart && prefix && !chunk.subarray(i, i + prefix.length).equals(prefix) && chunk.length - i >= prefix.length) withoutPrefix++;
      atLineStart = chunk[i] === 10;
      if (atLineStart) newlines++;
    }
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const samples: Sample[] = [];
  const sample = (): void => {
    const memory = memoryOf(pid);
    const fds = openFds(pid);
    if (memory && fds !== null && Number.isFinite(memory.hwmKb)) samples.push({ at: performance.now() - started, ...memory, fds });
  };
  sample();
  const sampler = setInterval(sample, options.sampleEveryMs ?? 50);
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(killer);
      resolve({
        code,
        signal,
        stdoutBytes: bytes,
        stdoutLines: newlines,
        linesWithoutPrefix: withoutPrefix,
        stderr,
        samples,
        peakKb: samples.at(-1)?.hwmKb ?? NaN,
        ms: performance.now() - started,
      });
    });
  });
}
