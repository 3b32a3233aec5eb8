import { describe, expect, it } from '@jest/globals';
import { ForbiddenException, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiKeyAuthService } from './api-key-auth.service.js';
import { ApiKeyGuard } from './api-key.guard.js';
import type { Principal } from './principal.js';
import { RequireScope } from './scopes.decorator.js';

class Routes {
  @RequireScope('write')
  place(): void {}

  undeclared(): void {}
}

const reader: Principal = { keyId: 'k1', name: 'reader', scopes: ['read'] };
const writer: Principal = { keyId: 'k2', name: 'writer', scopes: ['write'] };
const keys = new Map([['sbk_reader_key_0123456789', reader], ['sbk_writer_key_0123456789', writer]]);
const auth = { authenticate: async (key: string) => keys.get(key) ?? null } as unknown as ApiKeyAuthService;
const guard = new ApiKeyGuard(new Reflector(), auth);

function context(handler: keyof Routes, authorization?: string) {
  const req: Record<string, unknown> = { headers: authorization ? { authorization } : {} };
  const ctx = {
    switchToHttp: () => ({ getRequest: () => req }),
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
  } as unknown as ExecutionContext;
  return { ctx, req };
}

describe('ApiKeyGuard', () => {
  it('lets a key with the route scope through and attaches its principal', async () => {
    const { ctx, req } = context('place', 'Bearer sbk_writer_key_0123456789');
    await expect(guard.canActivate(ctx)).resolves.toBe(true);
    expect(req.principal).toBe(writer);
  });

  it.each([undefined, 'sbk_writer_key_0123456789', 'Basic abc', 'Bearer ', 'Bearer short', 'Bearer sbk_unknown_key_0123456789'])(
    'answers 401 for the Authorization header %p',
    async (header) => {
      await expect(guard.canActivate(context('place', header).ctx)).rejects.toBeInstanceOf(UnauthorizedException);
    },
  );

  it('answers 403 for a key without the scope', async () => {
    await expect(guard.canActivate(context('place', 'Bearer sbk_reader_key_0123456789').ctx)).rejects.toThrow(/lacks the "write" scope/);
  });

  it('fails closed on a route that declares no scope', async () => {
    await expect(guard.canActivate(context('undeclared', 'Bearer sbk_writer_key_0123456789').ctx)).rejects.toBeInstanceOf(ForbiddenException);
  });
});
