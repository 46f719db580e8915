/**
 * Who may use the page: a token (--ui-token, RPR_UI_TOKEN, or one made at start) as a bearer header
 * or a cookie set by the login form. Reads need it on any address but loopback; changes need it
 * always unless loopback and --ui-no-auth. A change must also carry the X-Rpr-Request header,
 * which no cross-site form or image can send (CSRF), and the cookie is SameSite=Strict.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { usageError } from '../errors/index.js';

export const COOKIE = 'rpr_ui';
const CSRF_HEADER = 'x-rpr-request';

export interface UiAuth {
  /** The token made at start, when none was given and one is needed. */
  generated?: string;
  token?: string;
  /** The request carries the token. */
  authenticated(req: IncomingMessage): boolean;
  mayRead(req: IncomingMessage): boolean;
  mayChange(req: IncomingMessage): boolean;
  /** The request's user may change things (the CSRF header aside): the page shows its controls. */
  canChange(req: IncomingMessage): boolean;
  check(candidate: string): boolean;
}

const isLoopback = (addr: string): boolean => addr === 'localhost' || addr === '::1' || (isIP(addr) === 4 && addr.startsWith('127.'));

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export function uiAuth(addr: string, given: string | undefined, noAuth: boolean): UiAuth {
  const loopback = isLoopback(addr);
  if (!loopback && !given) throw usageError(`--ui-addr ${addr} is not a loopback address: the page needs a token there`, 'give --ui-token TOKEN (or RPR_UI_TOKEN), or keep --ui-addr 127.0.0.1');
  if (noAuth && !loopback) throw usageError('--ui-no-auth only applies on a loopback --ui-addr', 'drop --ui-no-auth, or bind 127.0.0.1');
  if (given !== undefined && given.length < 16) throw usageError('--ui-token: at least 16 characters', 'e.g. --ui-token "$(openssl rand -hex 16)"');
  const generated = !given && !noAuth ? randomBytes(18).toString('base64url') : undefined;
  const token = given ?? generated;
  const check = (candidate: string): boolean => {
    if (!token) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const authenticated = (req: IncomingMessage): boolean => {
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const cookie = cookieToken(req);
    return (bearer !== undefined && check(bearer)) || (cookie !== undefined && check(cookie));
  };
  const canChange = (req: IncomingMessage): boolean => (loopback && noAuth) || authenticated(req);
  return {
    canChange,
    ...(generated ? { generated } : {}),
    ...(token ? { token } : {}),
    authenticated,
    check,
    mayRead: (req) => loopback || authenticated(req),
    mayChange: (req) => req.headers[CSRF_HEADER] === '1' && canChange(req),
  };
}
