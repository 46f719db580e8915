/**
 * Text from outside rpr (a plugin's manifest, log lines, error reports; a wasm's describe()) on its
 * way to a terminal. Escape sequences in it can move the cursor, erase and rewrite what rpr printed
 * (measured: a manifest description that made a real terminal show "network: none" on the consent
 * screen while the plugin asked for 127.0.0.1:*). Every C0 and C1 control character, DEL, and the
 * Unicode bidirectional and invisible formatting characters are shown as \\xNN / \\uNNNN instead.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

export const hasUnprintable = (text: string): boolean => {
  UNPRINTABLE.lastIndex = 0;
  return UNPRINTABLE.test(text);
};

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** printable(), cut to `max` characters with the original length said. */
export function printableLine(text: string, max = 500): string {
  const shown = printable(text.length > max * 4 ? text.slice(0, max * 4) : text);
  return shown.length <= max ? shown : `${shown.slice(0, max)}...(${text.length} characters)`;
}
