import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Scope } from './api-key-secret.js';

/** The API key a request was authenticated with. */
export interface Principal {
  keyId: string;
  name: string;
  scopes: readonly Scope[];
}

export type AuthenticatedRequest = Request & { principal?: Principal };

/** Injects the request's `Principal` (set by `ApiKeyGuard`). */
export const CurrentKey = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentKey used on a route without ApiKeyGuard');
  return principal;
});
