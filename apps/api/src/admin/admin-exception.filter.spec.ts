import { describe, expect, it } from '@jest/globals';
import { HttpException, Logger, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { CallInProgressError, CallNotFoundError, OutboundCallRejectedError } from './admin-errors.js';
import { AdminExceptionFilter } from './admin-exception.filter.js';

function host() {
  const sent: { status?: number; body?: any } = {};
  const res = {
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: unknown) {
      sent.body = body;
      return this;
    },
  };
  const req = { method: 'GET', path: '/admin/calls' };
  const h = { switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }) } as unknown as ArgumentsHost;
  return { h, sent };
}

Logger.overrideLogger(false);

describe('AdminExceptionFilter', () => {
  const filter = new AdminExceptionFilter();

  it('maps typed errors to their status with their message', () => {
    const cases: [Error, number][] = [
      [new CallNotFoundError('CA1'), 404],
      [new CallInProgressError('CA1'), 409],
      [new OutboundCallRejectedError('bad number', 21211), 422],
    ];
    for (const [err, status] of cases) {
      const { h, sent } = host();
      filter.catch(err, h);
      expect(sent.status).toBe(status);
      expect(sent.body).toMatchObject({ statusCode: status, error: expect.any(String), message: err.message });
    }
  });

  it('keeps HttpExceptions as they are', () => {
    const { h, sent } = host();
    filter.catch(new NotFoundException('nope'), h);
    expect(sent).toEqual({ status: 404, body: { statusCode: 404, message: 'nope', error: 'Not Found' } });
  });

  it('answers anything else with a 500 carrying an error id, never the error itself', () => {
    const { h, sent } = host();
    filter.catch(new TypeError('secret detail at db.internal:5432'), h);
    expect(sent.status).toBe(500);
    expect(sent.body).toMatchObject({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' });
    expect(sent.body.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(sent.body)).not.toContain('secret detail');
  });

  it('gives HttpExceptions built from a plain object or a string the same shape', () => {
    for (const err of [new HttpException({ statusCode: 429, message: 'slow down' }, 429), new HttpException('gone', 410)]) {
      const { h, sent } = host();
      filter.catch(err, h);
      expect(Object.keys(sent.body).sort()).toEqual(['error', 'message', 'statusCode']);
      expect(sent.body.error).toBe(err.getStatus() === 429 ? 'Too Many Requests' : 'Gone');
    }
  });
});
