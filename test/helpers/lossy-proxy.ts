import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A proxy in front of a real server that loses some answers. */
export interface LossyProxy {
  uri: string;
  /** How many answers it has lost so far. */
  dropped(): number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy to `target` that passes every request on, and for the first `times` requests matching `lose`
 * lets the server do the work but closes the client's connection instead of answering: the lost answer a flaky
 * network gives.
 */
export async function startLossyProxy(
  target: string,
  lose: (method: string, url: string) => boolean,
  times = 1,
): Promise<LossyProxy> {
  let dropped = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([name, value]) => name !== 'host' && typeof value === 'string'),
      ) as Record<string, string>;
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(`${target}${req.url ?? '/'}`, { method, headers, ...(body ? { body } : {}) })
        .then(async (answer) => {
          const payload = Buffer.from(await answer.arrayBuffer());
          if (dropped < times && lose(method, req.url ?? '')) {
            dropped++;
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(payload);
        })
        .catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}`,
    dropped: () => dropped,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
