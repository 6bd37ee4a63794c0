// HTTP on fos: a static file server that runs as a fos process, reads files through the fs component
// (FosFs) from the file-system fleet and serves them with a stock node:http server over fos sockets
// (FosNet): every connection a name under /sys/netstack/connections.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { MessageBody } from '@fos/base';
import { parseRequest } from '@fos/dispatcher';
import { errnoOf, FosFs } from '@fos/fs';
import { createLibfos } from '@fos/libfos-messaging';
import type { ProcessContext } from '@fos/microkernel';
import { FosNet, serveHttp } from '@fos/netstack';
import { z } from 'zod';

/** How long a connection may take to send a request's headers (a slowloris is cut off after it). */
export const httpHeadersTimeoutMs = 10_000;
/** How long a whole request may take. */
export const httpRequestTimeoutMs = 30_000;
/** How long an idle keep-alive connection stays open. */
export const httpKeepAliveTimeoutMs = 5_000;

const argsSchema = z.strictObject({
  port: z.number().int().min(0).max(65_535),
  host: z.string().min(1).max(255).optional(),
});

/** What {@link httpFileServer} takes: the port (0: the host picks) and address to listen on. */
export type HttpFileServerArgs = z.infer<typeof argsSchema>;

const contentTypes: Readonly<Record<string, string>> = {
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.tar': 'application/x-tar',
};

/**
 * A static file server, as a process entry (`entry: 'httpFileServer'`, every fabric but `sim`):
 * listens on `args.port` through the netstack fleet and answers `GET` and `HEAD` of `/path` with the
 * file `path` of the file-system fleet (`404` when there is none, a listing for a directory).
 * Returns the port and host it listens on.
 */
export async function httpFileServer(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { port, host } = parseRequest('httpFileServer', argsSchema, args);
  const libfos = await createLibfos(context);
  const fs = new FosFs(libfos);
  const net = new FosNet(libfos);
  const server = await net.listen(port, host === undefined ? {} : { host });
  const http = createServer(
    {
      headersTimeout: httpHeadersTimeoutMs,
      requestTimeout: httpRequestTimeoutMs,
      keepAliveTimeout: httpKeepAliveTimeoutMs,
    },
    (request, response) => void answer(fs, request, response),
  );
  serveHttp(server, http);
  return { port: server.port, host: server.host };
}

async function answer(fs: FosFs, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return plain(response, 405, 'only GET and HEAD\n');
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url ?? '/', 'http://fos').pathname);
  } catch {
    return plain(response, 400, 'a malformed path\n');
  }
  try {
    const stat = await fs.stat(path);
    if (stat.type === 'directory') {
      const names = await fs.readdir(path);
      return plain(response, 200, names.map((name) => `${name}\n`).join(''), request.method === 'HEAD');
    }
    response.statusCode = 200;
    response.setHeader('content-type', contentTypes[/\.[^./]*$/.exec(path)?.[0] ?? ''] ?? 'application/octet-stream');
    response.setHeader('content-length', stat.size);
    response.setHeader('last-modified', new Date(stat.mtimeMs).toUTCString());
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    const stream = fs.createReadStream(path);
    stream.on('error', () => response.destroy());
    stream.pipe(response);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return plain(response, 404, `no such file: ${path}\n`);
    if (errno === 'EINVAL' || errno === 'ELOOP') return plain(response, 400, `${(error as Error).message}\n`);
    return plain(response, 500, `${(error as Error).message}\n`);
  }
}

function plain(response: ServerResponse, status: number, body: string, headOnly = false): void {
  response.statusCode = status;
  response.setHeader('content-type', 'text/plain; charset=utf-8');
  response.setHeader('content-length', Buffer.byteLength(body));
  response.end(headOnly ? undefined : body);
}
