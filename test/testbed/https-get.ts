// A minimal HTTP(S) client for readiness checks and raw API calls, trusting the bed's own CA.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';

const REQUEST_TIMEOUT_MS = 10_000;

export interface HttpOptions {
  ca?: string | Buffer;
  token?: string;
  method?: string;
  body?: string;
  contentType?: string;
}

export function httpGet(url: string, options: HttpOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: options.method ?? 'GET', headers, ca: options.ca, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${url} timed out`)));
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
