import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canEncodeRun, encodeEnv, encodeRun, parseReply, ReplyReader, type LaunchRequest } from '../../src/run/launcher-protocol.js';

/** Decodes the request stream the way the launcher's Python loop does: count-prefixed NUL-terminated fields. */
function decode(stream: Buffer): string[][] {
  const fields = stream.toString('utf8').split('\0');
  expect(fields.pop()).toBe(''); // every field is terminated
  const messages: string[][] = [];
  for (let i = 0; i < fields.length; ) {
    const n = Number(fields[i]);
    messages.push(fields.slice(i + 1, i + 1 + n));
    i += 1 + n;
  }
  return messages;
}

const request = (argv: string[], env: Record<string, string> = {}): LaunchRequest => ({ argv, env, stdout: 'inherit', stderr: 'null' });

describe('launcher requests', () => {
  it('frame argv and variables as fields, with nothing quoted', () => {
    const argv = ['printf', '%s\n', "it's", 'a b', '$HOME', '"q"', '', 'line1\nline2', '\\', 'ü 😀', '*'];
    const [msg] = decode(encodeRun(request(argv, { RPR_RUN: '1', EMPTY: '', EQ: 'a=b' })));
    expect(msg).toEqual(['run', 'inherit', 'null', '', String(argv.length), ...argv, 'RPR_RUN=1', 'EMPTY=', 'EQ=a=b']);
  });

  it("carry a working directory as one field, empty for rpr's own", () => {
    const [msg] = decode(encodeRun({ ...request(['true']), cwd: '/srv/a b/ü' }));
    expect(msg).toEqual(['run', 'inherit', 'null', '/srv/a b/ü', '1', 'true']);
    expect(canEncodeRun({ ...request(['true']), cwd: '/a\0b' })).toBe(false);
  });

  it('round-trip any argv and environment without NUL', () => {
    const text = fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0'));
    const key = fc.string({ unit: 'binary', minLength: 1 }).filter((s) => !/[\0=]/.test(s));
    fc.assert(
      fc.property(fc.array(text, { minLength: 1 }), fc.dictionary(key, text), (argv, env) => {
        fc.pre(argv[0] !== '');
        const req = request(argv, env);
        expect(canEncodeRun(req)).toBe(true);
        const [msg] = decode(encodeRun(req));
        const wellFormed = (s: string): string => Buffer.from(s, 'utf8').toString('utf8'); // lone surrogates become U+FFFD, as in spawn()
        expect(msg!.slice(5, 5 + argv.length)).toEqual(argv.map(wellFormed));
        expect(msg!.slice(5 + argv.length)).toEqual(Object.entries(env).map(([k, v]) => wellFormed(`${k}=${v}`)));
      }),
    );
  });

  it('several messages in one stream stay apart', () => {
    const stream = Buffer.concat([encodeEnv({ A: '1', B: undefined, C: 'x\ny' }), encodeRun(request(['true'])), encodeRun(request(['x']))]);
    expect(decode(stream)).toEqual([
      ['env', 'A=1', 'C=x\ny'],
      ['run', 'inherit', 'null', '', '1', 'true'],
      ['run', 'inherit', 'null', '', '1', 'x'],
    ]);
  });

  it('refuse what exec could not take or a variable name could not carry', () => {
    expect(canEncodeRun(request(['echo', 'a\0b']))).toBe(false);
    expect(canEncodeRun(request([]))).toBe(false);
    expect(canEncodeRun(request(['']))).toBe(false);
    expect(canEncodeRun(request(['true'], { X: 'a\0' }))).toBe(false);
    expect(canEncodeRun(request(['true'], { 'A=B': 'x' }))).toBe(false);
    expect(canEncodeRun(request(['true'], { '': 'x' }))).toBe(false);
    expect(() => encodeRun(request(['echo', 'a\0b']))).toThrow();
  });
});

describe('launcher replies', () => {
  it('parse each kind', () => {
    expect(parseReply('ready 12 1')).toEqual({ type: 'ready', pid: 12, adopts: true });
    expect(parseReply('ready 12 0')).toEqual({ type: 'ready', pid: 12, adopts: false });
    expect(parseReply('ready 12')).toBeNull();
    expect(parseReply('ready 12 2')).toBeNull();
    expect(parseReply('started 4242 13134567891')).toEqual({ type: 'started', pid: 4242, atMs: 13134567.891 });
    expect(parseReply('exit 4242 0')).toEqual({ type: 'exit', pid: 4242, code: 0 });
    expect(parseReply('exit 4242 255')).toEqual({ type: 'exit', pid: 4242, code: 255 });
    expect(parseReply('signal 4242 15')).toEqual({ type: 'signal', pid: 4242, signo: 15 });
    expect(parseReply('error ENOENT')).toEqual({ type: 'error', code: 'ENOENT' });
    expect(parseReply('unsupported NotImplementedError')).toEqual({ type: 'unsupported', reason: 'NotImplementedError' });
    expect(parseReply('fatal python 3.8 or later is needed')).toEqual({ type: 'fatal', reason: 'python 3.8 or later is needed' });
  });

  it('reject anything else', () => {
    for (const line of [
      '',
      'started',
      'started 0 1',
      'started -1 1',
      'started 12',
      'started 12 13 14',
      'started 12 -13',
      'started 12 1.5',
      'started 12 12345678901234567',
      'started 1e3 1',
      'started 007 1',
      'exit 12',
      'exit 12 256',
      'exit 12 1 ',
      'signal 12 0',
      'error',
      'error enoent',
      'hello 1',
      'Traceback (most recent call last):',
    ]) {
      expect(parseReply(line), line).toBeNull();
    }
  });

  it('are read as lines across chunk boundaries', () => {
    const reader = new ReplyReader();
    expect(reader.push('star')).toEqual([]);
    expect(reader.push(Buffer.from('ted 7 5000\nexit 7 3\nsig'))).toEqual([
      { type: 'started', pid: 7, atMs: 5 },
      { type: 'exit', pid: 7, code: 3 },
    ]);
    expect(reader.push('nal 7 9\n')).toEqual([{ type: 'signal', pid: 7, signo: 9 }]);
  });
});
