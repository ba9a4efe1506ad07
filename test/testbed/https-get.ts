// A minimal HTTPS/HTTP GET for readiness checks, trusting the bed's own CA (no client library needed yet).
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';

const REQUEST_TIMEOUT_MS = 5_000;

export function httpGet(url: string, options: { ca?: string | Buffer; token?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { headers, ca: options.ca, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
