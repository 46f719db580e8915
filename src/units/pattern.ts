import { RprError } from '../errors/index.js';

/**
 * A user pattern, kept as JavaScript source plus flags so that
 * --case-insensitive can be applied after all options are known.
 */
export interface Pattern {
  source: string;
  flags: string;
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/**
 * One token of an RE2 pattern that needs attention, matched left to right so
 * that an escaped backslash (\\) is never mistaken for the start of \A.
 */
const TOKEN = /\\Q([\s\S]*?)(?:\\E|$)|\\([\s\S])|\[:(\^?)([a-z]+):\]|(\(\?P<)|\(\?([a-zA-Z-]*)([:)])/g;
const ESCAPE_UNSUPPORTED: Record<string, string> = { C: '\\C (any byte)', p: 'Unicode classes \\p', P: 'Unicode classes \\P' };

/**
 * Compiles a pattern written for RE2 (the Go rpr) or JavaScript. Leading
 * (?i) (?m) (?s) become flags, (?P<name>) becomes (?<name>), \A \z \Q..\E
 * and POSIX classes are translated exactly; anything else RE2-only is a usage
 * error naming the construct, never silently changed.
 */
export function compilePattern(source: string, where: string): Pattern {
  let body = source;
  let flags = '';
  const leading = /^\(\?([imsU]+)\)/.exec(body);
  if (leading) {
    if (leading[1]!.includes('U')) throw unsupported(where, 'the ungreedy flag (?U)');
    flags = [...new Set(leading[1]!)].join('');
    body = body.slice(leading[0].length);
  }
  body = body.replace(TOKEN, (whole, literal?: string, escaped?: string, negated?: string, posix?: string, named?: string, inline?: string, closer?: string) => {
    if (literal !== undefined) return literal.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    if (escaped !== undefined) {
      if (escaped === 'A') return '(?<![\\s\\S])';
      if (escaped === 'z') return '(?![\\s\\S])';
      if (ESCAPE_UNSUPPORTED[escaped]) throw unsupported(where, ESCAPE_UNSUPPORTED[escaped]!);
      if (escaped === 'x' && body.startsWith('{', body.indexOf(whole) + 2)) throw unsupported(where, '\\x{...} escapes');
      return whole;
    }
    if (posix !== undefined) {
      const chars = POSIX_CLASSES[posix];
      if (negated || !chars) throw unsupported(where, `the POSIX class ${whole}`);
      return chars;
    }
    if (named !== undefined) return '(?<';
    if (inline !== undefined) {
      // (?: (?= (?! (?<= (?<! are ordinary groups; flags here are RE2-only.
      if (inline === '' && closer === ':') return whole;
      throw unsupported(where, closer === ':' ? 'inline flag groups (?flags:...)' : 'inline flags other than at the start');
    }
    return whole;
  });
  try {
    new RegExp(body, flags);
  } catch (error) {
    throw new RprError('E_PATTERN', `${where}: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`, {
      hint: 'patterns are JavaScript regular expressions (RE2 (?i), (?P<name>) also work); escape special characters with \\',
    });
  }
  return { source: body, flags };
}

function unsupported(where: string, construct: string): RprError {
  return new RprError('E_PATTERN', `${where}: ${construct} cannot be expressed in JavaScript regular expressions`, {
    hint: 'rewrite the pattern without it',
  });
}

export function toRegExp(pattern: Pattern, caseInsensitive = false): RegExp {
  const flags = caseInsensitive && !pattern.flags.includes('i') ? `${pattern.flags}i` : pattern.flags;
  return new RegExp(pattern.source, flags);
}
