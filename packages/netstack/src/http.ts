// Stock node:http on fos sockets. An `http.Server` parses any Duplex handed to it with
// `server.emit('connection', socket)`; what it does only for servers that listen on the host is keep
// its table of connections and check their timeouts (`headersTimeout`, `requestTimeout`: the defence
// against a slowloris). `serveHttp` wires a fos listener to it and starts that checking too.
import type { Server as HttpServer } from 'node:http';
import type { FosServer } from './socket.js';

/**
 * Serves `http` on the fos listener `server`: every accepted connection is handed to it, and its
 * connection checks (headers and request timeouts) run as for a server listening on the host. When
 * `server` closes, `http` stops its checks and closes its idle connections.
 *
 * @example
 * const server = await net.listen(8080);
 * serveHttp(server, http.createServer((request, response) => response.end('hello')));
 */
export function serveHttp(server: FosServer, http: HttpServer): void {
  server.on('connection', (socket) => http.emit('connection', socket));
  // node:http starts its connection table and its timeout checks on 'listening'.
  http.emit('listening');
  server.once('close', () => {
    http.close(() => undefined);
    http.closeIdleConnections();
  });
}
