// The webhook receiver of the process tests: docs/examples/verify-webhook.mjs's receiver,
// in a process of its own, which fails its first FAIL_FIRST events (answers 500) and writes
// what it sees to files the test reads:
//   EVENTS_FILE    one line per event it accepted (after dropping repeats by id): the body
//   REQUESTS_FILE  one line per request: {"event_id", "status"}
// Environment: PORT, WEBHOOK_SECRETS (comma-separated), FAIL_FIRST, EVENTS_FILE, REQUESTS_FILE.

import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createReceiver } from '../../../docs/examples/verify-webhook.mjs';

const secrets = process.env.WEBHOOK_SECRETS.split(',').filter(Boolean);
let failuresLeft = Number(process.env.FAIL_FIRST ?? 0);

const handler = createReceiver({
  secrets,
  onEvent: (event) => {
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      throw new Error('failing on purpose');
    }
    appendFileSync(process.env.EVENTS_FILE, `${JSON.stringify(event)}\n`);
  },
});

createServer((request, response) => {
  response.on('finish', () => {
    const line = { event_id: request.headers['tweetbuy-event-id'] ?? null, status: response.statusCode };
    appendFileSync(process.env.REQUESTS_FILE, `${JSON.stringify(line)}\n`);
  });
  handler(request, response);
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
