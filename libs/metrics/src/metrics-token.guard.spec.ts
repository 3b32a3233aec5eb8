import { UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import type { AppConfig } from '#libs/config';
import { MetricsTokenGuard } from './metrics-token.guard.js';

const context = (authorization?: string) =>
  ({ switchToHttp: () => ({ getRequest: () => ({ header: (name: string) => (name === 'authorization' ? authorization : undefined) }) }) }) as unknown as ExecutionContext;

describe('MetricsTokenGuard', () => {
  it('is open without METRICS_TOKEN', () => {
    expect(new MetricsTokenGuard({} as AppConfig).canActivate(context())).toBe(true);
  });

  it('wants the exact bearer token when METRICS_TOKEN is set', () => {
    const guard = new MetricsTokenGuard({ METRICS_TOKEN: 'secret-token-0123456789' } as AppConfig);
    expect(guard.canActivate(context('Bearer secret-token-0123456789'))).toBe(true);
    for (const header of [undefined, '', 'Bearer', 'Bearer secret-token-012345678', 'Basic secret-token-0123456789', 'secret-token-0123456789']) {
      expect(() => guard.canActivate(context(header))).toThrow(UnauthorizedException);
    }
  });
});
