import { type Agent, type IncomingHttpHeaders, request } from 'node:http';
import type { SentRequest } from './requests';

export interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  /** Every byte of the body was counted; `text` keeps its first KEPT bytes. */
  bytes: number;
  text: string;
  /** The parsed body when it is JSON (and was kept whole), else undefined. */
  json: unknown;
}

const KEPT = 256 * 1024;

/** application/json and its +json kin; not NDJSON, which is many documents. */
export const isJson = (contentType: string | undefined) => /^application\/([\w.-]+\+)?json\b/.test(contentType ?? '');

/** Sends one request as is (no redirects, no retries, no normalisation of the path) over a kept-alive connection. */
export function send(port: number, agent: Agent, sent: SentRequest): Promise<Received> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...sent.headers };
    if (sent.body) headers['Content-Length'] = String(sent.body.length);
    const req = request({ host: '127.0.0.1', port, method: sent.method, path: sent.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        if (bytes < KEPT) chunks.push(chunk);
        bytes += chunk.length;
      });
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).subarray(0, KEPT).toString('utf8');
        let json: unknown;
        if (isJson(res.headers['content-type']) && bytes <= KEPT) {
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, text, json });
      });
    });
    req.on('error', reject);
    req.end(sent.body ?? undefined);
  });
}
