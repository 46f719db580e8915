import type { Hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';

/** node:crypto takes milliseconds to load and only --until-changes needs it: it is required then. */
const requireBuiltin = createRequire(import.meta.url);

/** Most output text kept for whole-text pattern matching; lines are matched without limit. */
export const CAPTURE_CAP_BYTES = 1024 * 1024;
const LINE_CAP_CHARS = 64 * 1024;
const TAIL_CHARS = 4096;
/** The start of the output, where an HTTP response's status line and headers are (--http-aware). */
const HEAD_CHARS = 16 * 1024;

export interface CaptureNeeds {
  patterns: RegExp[];
  /** Hash stdout to compare runs (--until-changes) without keeping it. */
  hashStdout: boolean;
}

export interface CaptureResult {
  /** For each pattern (same order): did any line, or the captured text, match? */
  matched: boolean[];
  stdoutHash: string | null;
  /** Last few KB of combined output, for plugins and the JSON record. */
  tail: string;
  /** First HEAD_CHARS of stdout, then of stderr. */
  head: string;
  /** True when more than CAPTURE_CAP_BYTES were produced (whole-text matching saw only the start). */
  truncated: boolean;
}

/**
 * Watches one run's output for the features that need it, in bounded memory:
 * patterns are tested per line as output streams (so a match is never missed
 * however long the output) and once more against the first 1 MiB as a whole
 * (so multi-line patterns work on ordinary output).
 */
export class OutputCapture {
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private readonly partial = { stdout: '', stderr: '' };
  private readonly matched: boolean[];
  private readonly hash: Hash | null;
  private text = { stdout: '', stderr: '' };
  private bytes = 0;
  private tail = '';

  constructor(private readonly needs: CaptureNeeds) {
    this.matched = needs.patterns.map(() => false);
    this.hash = needs.hashStdout ? (requireBuiltin('node:crypto') as typeof import('node:crypto')).createHash('sha256') : null;
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (stream === 'stdout') this.hash?.update(chunk);
    const text = this.decoders[stream].write(chunk);
    if (this.bytes < CAPTURE_CAP_BYTES) this.text[stream] += text.slice(0, CAPTURE_CAP_BYTES - this.bytes);
    this.bytes += chunk.length;
    this.tail = (this.tail + text).slice(-TAIL_CHARS);
    if (this.needs.patterns.length > 0) this.matchLines(stream, text);
  }

  finish(): CaptureResult {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.decoders[stream].end();
      if (rest) this.write(stream, Buffer.from(rest));
      this.testLine(this.partial[stream]);
    }
    // Go rpr semantics: patterns see stdout followed by stderr.
    const whole = this.text.stdout + this.text.stderr;
    this.needs.patterns.forEach((re, i) => {
      if (!this.matched[i]) this.matched[i] = re.test(whole);
    });
    return {
      matched: this.matched,
      stdoutHash: this.hash ? this.hash.digest('hex') : null,
      tail: this.tail,
      head: (this.text.stdout.slice(0, HEAD_CHARS) + this.text.stderr.slice(0, HEAD_CHARS)).slice(0, HEAD_CHARS),
      truncated: this.bytes > CAPTURE_CAP_BYTES,
    };
  }

  private matchLines(stream: 'stdout' | 'stderr', text: string): void {
    const lines = (this.partial[stream] + text).split('\n');
    this.partial[stream] = lines.pop()!.slice(-LINE_CAP_CHARS);
    for (const line of lines) this.testLine(line);
  }

  private testLine(line: string): void {
    this.needs.patterns.forEach((re, i) => {
      if (!this.matched[i] && re.test(line)) this.matched[i] = true;
    });
  }
}
