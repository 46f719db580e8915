import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/units/duration.js';
import { compilePattern, toRegExp } from '../../src/units/pattern.js';
import { parseTimeOfDayOrIso } from '../../src/units/time.js';
import { RprError } from '../../src/errors/index.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1h0m5s250ms', 3_605_250],
    ['0', 0],
    [' 3s ', 3000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '5', '1x', '1s2', '-1s', 's', '1.s', '1e3ms', '1 s'])('rejects %j with a hint', (text) => {
    expect(() => parseDuration(text, '--every')).toThrow(RprError);
    try {
      parseDuration(text, '--every');
    } catch (error) {
      expect((error as RprError).code).toBe('E_DURATION');
      expect((error as RprError).message).toContain('--every');
      expect((error as RprError).hint).toMatch(/30s/);
    }
  });

  it('formats back into the shortest faithful text', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(90_061_000)).toBe('1d1h1m1s');
  });
});

describe('patterns', () => {
  it('accepts RE2 (?i) and (?P<name>) forms', () => {
    const p = compilePattern('(?i)(?P<word>READY)', '--success-pattern');
    const re = toRegExp(p);
    expect(re.test('ready')).toBe(true);
    expect(re.exec('x ready')?.groups?.word).toBe('ready');
  });

  it('applies --case-insensitive', () => {
    expect(toRegExp(compilePattern('ok', 'x'), true).test('OK')).toBe(true);
    expect(toRegExp(compilePattern('ok', 'x'), false).test('OK')).toBe(false);
  });

  it('rejects a pattern that does not compile, naming the flag', () => {
    expect(() => compilePattern('(unclosed', '--until-match')).toThrow(/--until-match/);
  });
});

describe('parseTimeOfDayOrIso', () => {
  const now = new Date(2030, 0, 1, 12, 0, 0).getTime();
  it('HH:MM later today is today; earlier is tomorrow', () => {
    expect(new Date(parseTimeOfDayOrIso('13:30', 'x', now)).getDate()).toBe(1);
    expect(new Date(parseTimeOfDayOrIso('11:00', 'x', now)).getDate()).toBe(2);
  });
  it('reads ISO times with offset', () => {
    expect(parseTimeOfDayOrIso('2030-01-02T03:04:05Z', 'x', now)).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
  });
  it.each(['25:00', '12:61', 'noon', '2030-13-01T00:00:00Z'])('rejects %s', (t) => {
    expect(() => parseTimeOfDayOrIso(t, '--until-time', now)).toThrow(/--until-time/);
  });
});

describe('RE2 patterns from the Go rpr', () => {
  const re = (source: string): RegExp => toRegExp(compilePattern(source, '--success-pattern'));
  it('turns leading inline flags into JavaScript flags', () => {
    expect(re('(?is)a.b').test('A\nB')).toBe(true);
    expect(re('(?m)^b$').test('a\nb\nc')).toBe(true);
  });
  it('translates \\A, \\z, \\Q..\\E and POSIX classes exactly', () => {
    expect(re('\\Aok').test('ok then')).toBe(true);
    expect(re('\\Aok').test('not ok')).toBe(false);
    expect(re('done\\z').test('done')).toBe(true);
    expect(re('done\\z').test('done\n')).toBe(false);
    expect(re('\\Q1+1=2 (a.b)\\E').test('so 1+1=2 (a.b) ok')).toBe(true);
    expect(re('\\Q1+1\\E').test('11')).toBe(false);
    expect(re('^[[:digit:]]+[[:space:]]*$').test('123 ')).toBe(true);
    expect(re('^[[:upper:]]$').test('a')).toBe(false);
  });
  it.each([
    ['(?U)a+', '(?U)'],
    ['a(?i)b', 'inline flags'],
    ['(?i:a)b', 'inline flag groups'],
    ['\\pL', '\\p'],
    ['\\x{41}', '\\x{'],
    ['[[:^alpha:]]', 'POSIX class [:^alpha:]'],
    ['[[:nope:]]', 'POSIX class'],
    ['\\C', '\\C'],
  ])('refuses %s, naming the construct', (source, named) => {
    expect(() => compilePattern(source, '--failure-pattern')).toThrow(named);
  });
});

describe('RE2 escapes are read pairwise', () => {
  it('an escaped backslash before A or C is a literal, not \\A or \\C', () => {
    expect(toRegExp(compilePattern('C:\\\\Apps', 'x')).test('C:\\Apps')).toBe(true);
    expect(toRegExp(compilePattern('\\\\C', 'x')).test('\\C')).toBe(true);
  });
  it('keeps ordinary groups and lookarounds', () => {
    expect(toRegExp(compilePattern('(?:a|b)(?=c)(?<!x)', 'x')).test('bc')).toBe(true);
  });
});
