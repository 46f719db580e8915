/**
 * What `rpr up` remembers of each job's runs: the last N per job in memory, with a bounded tail of
 * each run's output, kept across config reloads; with `--history FILE` also appended to a JSON
 * lines file, read back at start (a torn or corrupt line is skipped, not fatal) and, when it grows
 * past its bound, rewritten to the newest records that fill half of it.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';

type RunOutcome = 'ok' | 'failed' | 'timeout' | 'skipped';

export interface RunRecord {
  job: string;
  /** 0 for skipped slots. */
  run: number;
  outcome: RunOutcome;
  /** When the run was due (epoch ms); absent for skipped slots. */
  dueWall?: number;
  startWall: number;
  durationMs: number;
  exitCode: number | null;
  signal: string | null;
  /** Skipped slots this record stands for. */
  count?: number;
  /** The run's last lines of output (bounded). */
  tail?: string;
}

export interface HistoryOptions {
  /** Runs kept per job. */
  perJob?: number;
  /** Bytes of output kept per run. */
  tailBytes?: number;
  file?: string;
  /** The file is compacted when it grows past this. */
  maxFileBytes?: number;
}

export interface History {
  record(entry: RunRecord): void;
  runs(job: string): readonly RunRecord[];
  /** Lines of the file that could not be read at start. */
  readonly corrupt: number;
}

const isRecord = (value: unknown): value is RunRecord => {
  const r = value as RunRecord;
  return typeof r === 'object' && r !== null && typeof r.job === 'string' && typeof r.run === 'number' && typeof r.outcome === 'string' && typeof r.startWall === 'number';
};

/** The last `max` bytes of `text`, cut at a line start when one is near. */
function tailOf(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  const cut = Buffer.from(text).subarray(-max).toString('utf8');
  const nl = cut.indexOf('\n');
  return nl >= 0 && nl < cut.length - 1 ? cut.slice(nl + 1) : cut;
}

export function createHistory(options: HistoryOptions = {}): History {
  const perJob = options.perJob ?? 100;
  const tailBytes = options.tailBytes ?? 4096;
  const maxFileBytes = options.maxFileBytes ?? 16 * 1024 * 1024;
  const byJob = new Map<string, RunRecord[]>();
  let corrupt = 0;
  const keep = (entry: RunRecord): void => {
    const list = byJob.get(entry.job) ?? [];
    list.push(entry);
    if (list.length > perJob) list.splice(0, list.length - perJob);
    byJob.set(entry.job, list);
  };
  const file = options.file;
  let size = 0;
  if (file && existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const value: unknown = JSON.parse(line);
        if (isRecord(value)) keep(value);
        else corrupt++;
      } catch {
        corrupt++;
      }
    }
    // A torn last line (rpr killed mid-write) must not swallow the next record.
    if (text.length > 0 && !text.endsWith('\n')) appendFileSync(file, '\n');
    size = statSync(file).size;
  }
  /** The newest records that fill half the bound: the file then grows a while before the next rewrite. */
  const compact = (): void => {
    const all = [...byJob.values()].flat().sort((a, b) => a.startWall - b.startWall);
    const lines: string[] = [];
    let bytes = 0;
    for (let i = all.length - 1; i >= 0; i--) {
      const line = `${JSON.stringify(all[i])}\n`;
      bytes += Buffer.byteLength(line);
      if (bytes > maxFileBytes / 2) break;
      lines.push(line);
    }
    const text = lines.reverse().join('');
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file!);
    size = Buffer.byteLength(text);
  };
  return {
    get corrupt() {
      return corrupt;
    },
    record(entry) {
      const kept = entry.tail === undefined ? entry : { ...entry, tail: tailOf(entry.tail, tailBytes) };
      keep(kept);
      if (!file) return;
      const line = `${JSON.stringify(kept)}\n`;
      appendFileSync(file, line);
      size += Buffer.byteLength(line);
      if (size > maxFileBytes) compact();
    },
    runs: (job) => byJob.get(job) ?? [],
  };
}
