// Receiving tweetbuy webhooks in Node 20, with nothing but the standard library.
//
//   verifyWebhook(header, rawBody, secrets)  checks Tweetbuy-Signature and returns the event
//   createReceiver({ secrets, onEvent })     an http request handler: reads the raw body,
//                                            verifies it, drops repeats by event id, and
//                                            answers 2xx only once onEvent has succeeded
//
// Run as a receiver:  WEBHOOK_SECRET=whsec_... PORT=8787 node verify-webhook.mjs
// (during a secret rotation, WEBHOOK_SECRET may hold both secrets, comma-separated).

import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

/** Requests whose timestamp is further than this from our clock are refused (replays). */
export const TOLERANCE_SECONDS = 300;

export class WebhookVerificationError extends Error {}

/**
 * Checks a `Tweetbuy-Signature` header (`t=<unix seconds>,v1=<hex>[,v1=<hex>]`) against the
 * raw request body, exactly as received (verify before parsing: re-serialized JSON would
 * not match). `secrets` are the endpoint's secrets you hold (one, or two during a rotation).
 * Returns the parsed event; throws WebhookVerificationError when the request must be refused.
 */
export function verifyWebhook(header, rawBody, secrets, { now = Date.now() / 1000, toleranceSeconds = TOLERANCE_SECONDS } = {}) {
  if (typeof header !== 'string' || header.length === 0) {
    throw new WebhookVerificationError('no Tweetbuy-Signature header');
  }
  let timestamp = null;
  const signatures = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) throw new WebhookVerificationError('malformed signature header');
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') {
      if (timestamp !== null || !/^\d+$/.test(value)) throw new WebhookVerificationError('malformed timestamp');
      timestamp = Number(value);
    } else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) {
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === null || signatures.length === 0) {
    throw new WebhookVerificationError('malformed signature header');
  }
  if (Math.abs(now - timestamp) > toleranceSeconds) {
    throw new WebhookVerificationError('timestamp outside the replay window');
  }
  const body = Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody, 'utf8');
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
    for (const signature of signatures) {
      // Constant time: how much of a guess matched must not show in the time we take.
      matched = timingSafeEqual(signature, expected) || matched;
    }
  }
  if (!matched) throw new WebhookVerificationError('no signature matches');
  return JSON.parse(body.toString('utf8'));
}

/**
 * An http request handler for tweetbuy's POSTs. `onEvent(event)` is called once per event
 * id; when it throws (or its promise rejects) the answer is 500 and tweetbuy retries later.
 * Repeats are answered 200 without calling it again. The ids seen are kept in memory here:
 * keep them in your database in production, in the same transaction as the event's effect.
 */
export function createReceiver({ secrets, onEvent, seen = new Set(), maxBytes = 1 << 20 }) {
  return (request, response) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > maxBytes) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', async () => {
      const answer = (status, text) => {
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end(text);
      };
      if (request.method !== 'POST') return answer(405, 'POST only');
      let event;
      try {
        event = verifyWebhook(request.headers['tweetbuy-signature'], Buffer.concat(chunks), secrets);
      } catch (error) {
        return answer(400, error instanceof WebhookVerificationError ? error.message : 'bad request');
      }
      if (seen.has(event.id)) return answer(200, 'duplicate');
      try {
        await onEvent(event);
      } catch {
        return answer(500, 'not processed; try again');
      }
      seen.add(event.id);
      return answer(200, 'ok');
    });
  };
}

// Run directly: print each event once.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secrets = (process.env.WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (secrets.length === 0) {
    console.error('set WEBHOOK_SECRET to the endpoint secret (whsec_...)');
    process.exit(2);
  }
  const port = Number(process.env.PORT ?? 8787);
  const handler = createReceiver({ secrets, onEvent: (event) => console.log(event.type, event.id, JSON.stringify(event.object)) });
  createServer(handler).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}/`));
}
