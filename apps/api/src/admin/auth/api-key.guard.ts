import { ForbiddenException, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeyAuthService } from './api-key-auth.service.js';
import type { AuthenticatedRequest } from './principal.js';
import { RequireScope } from './scopes.decorator.js';

/**
 * Keys are `sbk_` + 43 base64url characters; the bootstrap key is any printable string. Any
 * printable token is well-formed (and then unknown unless it is a key): only a missing header,
 * another scheme or unprintable characters are "malformed".
 */
const BEARER = /^Bearer ([\x21-\x7e]{1,256})$/;

/**
 * Authenticates `Authorization: Bearer <key>` (401 when missing, unknown or revoked) and checks
 * the route's scope (403). A route without a declared scope is refused outright, so forgetting
 * `@RequireScope` fails closed.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: ApiKeyAuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = BEARER.exec(req.headers.authorization ?? '');
    if (!match) throw new UnauthorizedException('missing or malformed Authorization: Bearer <key> header');
    const principal = await this.auth.authenticate(match[1]);
    if (!principal) throw new UnauthorizedException('unknown or revoked API key');
    req.principal = principal;
    const scope = this.reflector.getAllAndOverride(RequireScope, [context.getHandler(), context.getClass()]);
    if (!scope) throw new ForbiddenException('this route declares no scope');
    if (!principal.scopes.includes(scope)) throw new ForbiddenException(`this API key lacks the "${scope}" scope`);
    return true;
  }
}
