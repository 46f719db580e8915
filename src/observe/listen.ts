import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { RprError } from '../errors/index.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface Listening {
  /** The bound port (the real one when asked for port 0). */
  port: number;
  /** Idempotent; resolves once the port is released. */
  close(): Promise<void>;
}

/** After close() starts, requests still in flight get this long before their sockets are cut. */
const CLOSE_GRACE_MS = 1000;

export function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  // Node drops the body itself for HEAD, keeping the headers a GET would get.
  res.end(body);
}

export const sendJson = (res: ServerResponse, status: number, value: unknown): void => send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);

/**
 * Serves GET/HEAD `routes` on host:port. `label` ('health', 'metrics') names
 * the server and its --LABEL-port flag in errors. Every bind failure, even a
 * synchronous one such as an out-of-range port, becomes an E_PORT rejection:
 * an unhandled 'error' event would crash rpr instead of exiting 2.
 */
export function serveRoutes(label: string, host: string, port: number, routes: Record<string, Route>): Promise<Listening> {
  return serve(label, host, port, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return sendJson(res, 404, { error: 'not found', paths: Object.keys(routes) });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'method not allowed' });
    }
    return route(req, res);
  });
}

/** Serves every request with `handle` (its failure is a 500, never a crash), with serveRoutes' bind errors. */
export function serve(label: string, host: string, port: number, handle: Route): Promise<Listening> {
  const server = createServer((req, res) => {
    Promise.resolve()
      .then(() => handle(req, res))
      .catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
  });
  return new Promise<Listening>((resolve, reject) => {
    const fail = (error: unknown): void => {
      server.close(() => undefined);
      reject(portError(label, host, port, error));
    };
    server.once('error', fail);
    try {
      server.listen({ host, port }, () => {
        server.off('error', fail);
        // A later server error (e.g. out of file descriptors on accept) must not kill the job.
        server.on('error', () => undefined);
        const address = server.address();
        resolve({ port: typeof address === 'object' && address ? address.port : port, close: closer(server) });
      });
    } catch (error) {
      server.off('error', fail);
      reject(portError(label, host, port, error));
    }
  });
}

function closer(server: Server): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
    }));
}

function portError(label: string, host: string, port: number, error: unknown): RprError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const flag = `--${label}-port`;
  const where = `port ${port} on ${host}`;
  const [message, hint] =
    code === 'EADDRINUSE'
      ? [`${where} is already in use`, `choose another ${flag}, or stop the process that holds it`]
      : code === 'EACCES'
        ? [`${where} may not be bound by this user`, `use a port above 1023 with ${flag}`]
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? [`address ${host} is not an address of this machine`, `use 127.0.0.1 to serve locally, or 0.0.0.0 for all interfaces`]
          : code === 'ERR_SOCKET_BAD_PORT'
            ? [`port ${port} is not a valid port`, `give ${flag} a number from 0 to 65535`]
            : [`cannot listen on ${where}: ${(error as Error | null)?.message ?? String(error)}`, `check ${flag} and the bind address`];
  return new RprError('E_PORT', `${label}: ${message}`, { hint, cause: error });
}
