import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { formatKeyPath, scanKeyLines } from '../../src/config/lines.js';

// Every text here is valid TOML (checked), since the scanner only ever sees such text.
function lines(text: string) {
  parse(text);
  return scanKeyLines(text);
}

describe('scanKeyLines', () => {
  it('finds section headers and plain keys', () => {
    const l = lines('# top\n\n[defaults]\ntimeout = "1s"\n  kill_after="2s" # c\n\n[observability]\nhealth_port = 1\n');
    expect(l.lineOf(['defaults'])).toBe(3);
    expect(l.lineOf(['defaults', 'timeout'])).toBe(4);
    expect(l.lineOf(['defaults', 'kill_after'])).toBe(5);
    expect(l.lineOf(['observability', 'health_port'])).toBe(8);
  });

  it('handles dotted keys, dotted headers and quoted keys', () => {
    const l = lines('defaults.timeout = "1s"\n[jobs."my job"]\nschedule = "count"\n[jobs.\'x.y\'.plugin]\n"a b".c = 1\n');
    expect(l.lineOf(['defaults', 'timeout'])).toBe(1);
    expect(l.lineOf(['jobs', 'my job'])).toBe(2);
    expect(l.lineOf(['jobs', 'my job', 'schedule'])).toBe(3);
    expect(l.lineOf(['jobs', 'x.y', 'plugin'])).toBe(4);
    expect(l.lineOf(['jobs', 'x.y', 'plugin', 'a b', 'c'])).toBe(5);
    // An implied table gets the line where it is first spelled out.
    expect(l.lineOf(['jobs', 'x.y'])).toBe(4);
  });

  it('finds keys inside inline tables and items of multi-line arrays', () => {
    const l = lines('p = { network = ["a"], memory_mb = 1 }\ncommand = [\n  "tar",\n  # c\n  "czf",\n]\n');
    expect(l.lineOf(['p', 'memory_mb'])).toBe(1);
    expect(l.lineOf(['command'])).toBe(2);
    expect(l.lineOf(['command', '[0]'])).toBe(3);
    expect(l.lineOf(['command', '[1]'])).toBe(5);
  });

  it('is not fooled by keys, brackets and newlines inside strings', () => {
    const text = ['a = """', 'fake = 1', '[fake]', '"""', "b = '''", "x = '' ''", "'''", 'c = "[not] = \\" # no"', "d = 'e = 1'", 'e = """ends with quotes"""""', 'f = 1'].join('\n');
    const l = lines(text);
    expect(l.lineOf(['fake'])).toBeUndefined();
    expect(l.lineOf(['b'])).toBe(5);
    expect(l.lineOf(['c'])).toBe(8);
    expect(l.lineOf(['d'])).toBe(9);
    expect(l.lineOf(['f'])).toBe(11);
  });

  it('counts lines across escaped newlines, CRLF and dates with a space', () => {
    const l = lines('a = """x\\\n  y"""\r\nd = 1979-05-27 07:32:00Z\r\nb = 2\r\n');
    expect(l.lineOf(['d'])).toBe(3);
    expect(l.lineOf(['b'])).toBe(4);
  });

  it('numbers [[array]] tables', () => {
    const l = lines('[[jobs]]\na = 1\n[[jobs]]\na = 2\n');
    expect(l.lineOf(['jobs'])).toBe(1);
    expect(l.lineOf(['jobs', '[1]', 'a'])).toBe(4);
  });

  it('falls back to the nearest ancestor for a key that is not written', () => {
    const l = lines('[jobs.a]\nschedule = "count"\n');
    expect(l.lineOf(['jobs', 'a', 'command'])).toBe(1);
    expect(l.lineOf(['nothing'])).toBeUndefined();
  });
});

describe('formatKeyPath', () => {
  it('writes paths as TOML would, quoting where needed', () => {
    expect(formatKeyPath(['defaults', 'timeout'])).toBe('defaults.timeout');
    expect(formatKeyPath(['jobs', 'my job', 'command', '[2]'])).toBe('jobs."my job".command[2]');
  });
});
