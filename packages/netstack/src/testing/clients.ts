// Host-side clients for the tests: raw TCP and HTTP/1.1 over keep-alive connections.
import { connect, type Socket } from 'node:net';

/** A raw TCP connection to 127.0.0.1:`port`, connected. */
export function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Everything `socket` receives until the peer ends (or the socket closes). */
export function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Buffer.concat(chunks)));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Sends `requests` GET requests one after another on one keep-alive connection and answers the bodies
 * (responses must carry `content-length`).
 */
export async function keepAliveGets(port: number, paths: readonly string[]): Promise<string[]> {
  const socket = await tcpConnect(port);
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  let failure: Error | undefined;
  socket.on('error', (error) => {
    failure = error;
    wake?.();
  });
  socket.on('close', () => {
    failure ??= new Error('the connection closed');
    wake?.();
  });
  const bodies: string[] = [];
  try {
    for (const path of paths) {
      socket.write(`GET ${path} HTTP/1.1\r\nhost: fos\r\nconnection: keep-alive\r\n\r\n`);
      for (;;) {
        const headerEnd = buffered.indexOf('\r\n\r\n');
        if (headerEnd >= 0) {
          const head = buffered.subarray(0, headerEnd).toString();
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
          if (!Number.isInteger(length)) throw new Error(`no content-length in ${head}`);
          if (buffered.length >= headerEnd + 4 + length) {
            bodies.push(buffered.subarray(headerEnd + 4, headerEnd + 4 + length).toString());
            buffered = buffered.subarray(headerEnd + 4 + length);
            break;
          }
        }
        if (failure !== undefined) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    }
    return bodies;
  } finally {
    socket.end();
    socket.destroy();
  }
}

/** Polls `check` every 20 ms until it holds (real time). */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A connection attempt that may be refused: sends `bytes` (when given, then half-closes) and answers
 * what came back before the connection closed, however it closed (a refused connection answers nothing).
 */
export function tcpExchange(port: number, bytes?: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Buffer.concat(chunks)));
    if (bytes !== undefined) socket.once('connect', () => socket.end(bytes));
  });
}
