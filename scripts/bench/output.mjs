// Output throughput and memory over a long job (issue 7's figures).
import { spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ENV, log, median, NODE, REPEAT, row, RPR } from './common.mjs';

/** Runs file args with stdout piped into this process, counting bytes; returns MB/s. */
function throughputOnce(file, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
    let bytes = 0;
    let first = 0;
    child.stdout.on('data', (chunk) => {
      first ||= performance.now();
      bytes += chunk.length;
    });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${file} ${args.join(' ')} exited ${code}`));
      // From the first byte to the last: the stream's rate, start-up left out.
      resolve({ bytes, mbps: bytes / 1e6 / ((performance.now() - first) / 1000) });
    });
  });
}

export async function throughput(tmp) {
  log('output throughput');
  const file = path.join(tmp, 'big.txt');
  const line = `${'0123456789abcdef'.repeat(6)}\n`;
  const chunk = line.repeat(Math.ceil((1 << 20) / line.length));
  const out = createWriteStream(file);
  for (let i = 0; i < 200; i++) if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  await new Promise((r) => out.end(r));
  const cat = [];
  const rpr = [];
  const read = [];
  for (let i = 0; i < REPEAT; i++) {
    cat.push((await throughputOnce('cat', [file])).mbps);
    rpr.push((await throughputOnce(NODE, [RPR, 'count', '--times', '1', '--', 'cat', file])).mbps);
    read.push((await throughputOnce(NODE, [RPR, 'count', '--times', '1', '--until-match', 'never printed', '--', 'cat', file])).mbps);
  }
  const size = `${((chunk.length * 200) / 1e6).toFixed(0)} MB`;
  row('Output', `output throughput, \`rpr count --times 1 -- cat FILE\` (${size}, into a pipe)`, `${median(rpr).toFixed(0)} MB/s`, `${median(cat).toFixed(0)} MB/s (\`cat FILE\`)`, {
    ratio: `${(median(rpr) / median(cat)).toFixed(2)}x`,
  });
  row('Output', 'the same with `--until-match` (rpr reads every byte for the pattern and copies it)', `${median(read).toFixed(0)} MB/s`, `${median(cat).toFixed(0)} MB/s (\`cat FILE\`)`, {
    ratio: `${(median(read) / median(cat)).toFixed(2)}x`,
  });
}

/** rpr's RSS, peak RSS and fds while `count --times N -- true` runs; the last sample before exit. */
function memoryOnce(runs) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(NODE, [RPR, 'count', '--times', String(runs), '--', 'true'], { stdio: 'ignore', env: ENV });
    let last = null;
    let first = null;
    const sample = () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
        const s = { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, fds: readdirSync(`/proc/${child.pid}/fd`).length };
        if (s.rss > 20) {
          first ??= s;
          last = s;
        }
      } catch {
        // gone
      }
    };
    const timer = setInterval(sample, 100);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`count --times ${runs} exited ${code}`));
      resolve({ ...last, firstFds: first?.fds, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

export async function memory() {
  log('memory');
  const small = await memoryOnce(1000);
  const big = await memoryOnce(20_000);
  row(
    'Memory',
    'peak RSS (VmHWM) over 20,000 runs of `true`',
    `${big.hwm.toFixed(1)} MB (${big.rss.toFixed(1)} MB at the end; fds ${big.firstFds} -> ${big.fds})`,
    `${small.hwm.toFixed(1)} MB over 1,000 runs (${small.rss.toFixed(1)} MB at the end; fds ${small.firstFds} -> ${small.fds})`,
    {
      ratio: `${(big.hwm / small.hwm).toFixed(2)}x`,
      note: `${big.seconds.toFixed(1)} s for 20,000 runs`,
    },
  );
}
