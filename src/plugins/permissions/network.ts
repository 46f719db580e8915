/**
 * host[:port] patterns. Extism's own allowedHosts ignores the port and redirects; rpr's fetch checks
 * every hop against these instead.
 *   example.com        that host, on the URL scheme's default port (80 for http, 443 for https)
 *   example.com:8080   that host and port
 *   example.com:*      that host, any port
 *   *.example.com      any subdomain (not example.com itself), default port
 *   [::1]:8080         IPv6 literals in brackets
 */
export interface NetworkPattern {
  /** Lower-case host; for a wildcard the suffix after "*." */
  host: string;
  wildcard: boolean;
  /** A port, '*' for any, or 'default' for the scheme's default port. */
  port: number | '*' | 'default';
}

const HOST = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/** Parses a pattern, or returns the reason it is not one. */
export function parseNetworkPattern(text: string): NetworkPattern | string {
  const value = text.trim().toLowerCase();
  const m = /^(\[[^\]]*\]|[^:]+)(?::(\d+|\*))?$/.exec(value);
  if (!m) return `"${text}" is not host[:port]`;
  const host = m[1]!;
  if (!HOST.test(host) && !IPV6.test(host)) return `"${text}": "${host}" is not a host name, IP address or *.domain`;
  const portText = m[2];
  let port: NetworkPattern['port'] = 'default';
  if (portText === '*') port = '*';
  else if (portText !== undefined) {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return `"${text}": port must be 1-65535 or *`;
  }
  const wildcard = host.startsWith('*.');
  return { host: wildcard ? host.slice(2) : host, wildcard, port };
}

export function formatPattern(p: NetworkPattern): string {
  const host = p.wildcard ? `*.${p.host}` : p.host;
  return p.port === 'default' ? host : `${host}:${p.port}`;
}

const DEFAULT_PORT: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** The host:port a URL connects to, as shown in denials. */
export function urlTarget(url: URL): string {
  return `${url.hostname}:${url.port || DEFAULT_PORT[url.protocol] || '?'}`;
}

export function matchesUrl(p: NetworkPattern, url: URL): boolean {
  const defaultPort = DEFAULT_PORT[url.protocol];
  if (defaultPort === undefined) return false;
  const host = url.hostname.toLowerCase();
  const hostOk = p.wildcard ? host.endsWith(`.${p.host}`) : host === p.host;
  if (!hostOk) return false;
  const port = url.port === '' ? defaultPort : Number(url.port);
  if (p.port === '*') return true;
  if (p.port === 'default') return port === defaultPort;
  return port === p.port;
}

/** True if every address `inner` admits is admitted by `outer`. */
function covers(outer: NetworkPattern, inner: NetworkPattern): boolean {
  const hostOk = outer.wildcard ? (inner.host === outer.host ? inner.wildcard : inner.host.endsWith(`.${outer.host}`)) : !inner.wildcard && inner.host === outer.host;
  const portOk = outer.port === '*' || outer.port === inner.port;
  return hostOk && portOk;
}

/** The addresses both patterns admit, as a pattern (patterns here always nest or are disjoint). */
export function intersectPatterns(a: NetworkPattern, b: NetworkPattern): NetworkPattern | undefined {
  const host = covers({ ...a, port: '*' }, { ...b, port: '*' }) ? b : covers({ ...b, port: '*' }, { ...a, port: '*' }) ? a : undefined;
  if (!host) return undefined;
  const port = a.port === '*' ? b.port : b.port === '*' || b.port === a.port ? a.port : undefined;
  if (port === undefined) return undefined;
  return { host: host.host, wildcard: host.wildcard, port };
}
