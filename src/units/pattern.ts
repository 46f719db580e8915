import { RprError } from '../errors/index.js';

/**
 * Compiles a user pattern. Kept as source text plus flags so that
 * --case-insensitive can be applied after all options are known.
 */
export interface Pattern {
  source: string;
  flags: string;
}

export function compilePattern(source: string, where: string): Pattern {
  let body = source;
  let flags = '';
  // RE2/PCRE inline flag, common in patterns written for the Go rpr.
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    flags = 'i';
  }
  // RE2 named groups (?P<name>...) are (?<name>...) in JavaScript.
  body = body.replace(/\(\?P</g, '(?<');
  try {
    new RegExp(body, flags);
  } catch (error) {
    throw new RprError('E_PATTERN', `${where}: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`, {
      hint: 'patterns are JavaScript regular expressions; escape special characters with \\',
    });
  }
  return { source: body, flags };
}

export function toRegExp(pattern: Pattern, caseInsensitive = false): RegExp {
  const flags = caseInsensitive && !pattern.flags.includes('i') ? `${pattern.flags}i` : pattern.flags;
  return new RegExp(pattern.source, flags);
}
