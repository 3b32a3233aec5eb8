import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { AppLogger, RequestLogContext, requestLogging } from './app-logger.js';
import { loggerOptions } from './logger.js';

function sink() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  return { lines, logger: pino(loggerOptions('debug', 'test'), stream) };
}

describe('AppLogger', () => {
  it("maps Nest's call shapes to one JSON line with the context", () => {
    const { lines, logger } = sink();
    const app = new AppLogger({ pino: logger });
    app.log('started', 'Bootstrap');
    app.warn({ path: '/x', to: '+15005550001' }, 'rejected', 'Guard');
    app.error('failed', 'Error: failed\n    at x', 'Worker');
    app.verbose('hidden at debug level', 'X');
    expect(lines.map((l) => [l.level, l.context, l.msg])).toEqual([['info', 'Bootstrap', 'started'], ['warn', 'Guard', 'rejected'], ['error', 'Worker', 'failed']]);
    expect(lines[1]).toMatchObject({ path: '/x', to: '[redacted]' });
    expect(lines[2].stack).toContain('at x');
  });

  it('tags every line of a request, and its access log line, with the assigned fields', async () => {
    const { lines, logger } = sink();
    const app = new AppLogger({ pino: logger });
    const context = new RequestLogContext();
    const middleware = requestLogging(logger, { ignore: (req) => req.url === '/health' });
    const server = createServer((req, res) => middleware(req, res, () => {
      context.assign({ callSid: 'CA0123' });
      app.log('inside', 'Handler');
      res.end('ok');
    }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await (await fetch(`${url}/twilio/voice`)).text();
    await (await fetch(`${url}/health`)).text();
    await new Promise<void>((r) => server.close(() => r()));
    const inside = lines.find((l) => l.msg === 'inside')!;
    expect(inside).toMatchObject({ callSid: 'CA0123', context: 'Handler' });
    expect(inside.req?.id ?? inside.reqId ?? inside.req).toBeDefined();
    const access = lines.filter((l) => l.msg === 'request completed');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ callSid: 'CA0123', res: { statusCode: 200 } });
    // Outside a request, assigning does nothing.
    context.assign({ callSid: 'CAother' });
    app.log('after', 'X');
    expect(lines.at(-1)).not.toHaveProperty('callSid');
  });
});
