/**
 * Second spellings of long flags. commander allows one long name per option,
 * so these are rewritten to the canonical flag before parsing. Only the part
 * before `--` is rewritten: the command's own arguments are never touched.
 */
const FLAG_ALIASES: Readonly<Record<string, string>> = {
  '--tz': '--timezone',
  // The Go rpr's multi-letter short flags of its strategies; each plugin maps the long form.
  '-bd': '--base-delay',
  '-md': '--max-delay',
  '-inc': '--increment',
  '-exp': '--exponent',
};

export function canonicalFlags(args: readonly string[]): string[] {
  return args.map((arg) => {
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('='))] : [arg, ''];
    const canonical = FLAG_ALIASES[flag];
    return canonical ? canonical + value : arg;
  });
}
