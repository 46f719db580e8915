/**
 * Colour for rpr's own lines, where it helps and only where it is wanted: NO_COLOR (any value)
 * turns it off, FORCE_COLOR turns it on (FORCE_COLOR=0 off), TERM=dumb turns it off, and
 * otherwise it follows whether the stream is a terminal. The command's own output is never touched.
 */
export interface Paint {
  enabled: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const sgr = (on: number, off: number) => (text: string) => `\x1b[${on}m${text}\x1b[${off}m`;

export function paint(enabled: boolean): Paint {
  const plain = (text: string) => text;
  return enabled
    ? { enabled, red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) }
    : { enabled, red: plain, green: plain, yellow: plain, dim: plain, bold: plain };
}

/** Escape sequences are only for terminals that understand them (the status line too). */
export const terminalCapable = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean => stream.isTTY === true && env.TERM !== 'dumb';
