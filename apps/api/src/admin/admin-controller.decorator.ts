import { applyDecorators, Controller, UseFilters, UseGuards, UseInterceptors, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AdminExceptionFilter } from './admin-exception.filter.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { RateLimitGuard } from './auth/rate-limit.guard.js';
import { TranscriptReadAuditInterceptor } from './audit/transcript-read-audit.interceptor.js';

/**
 * Rejects unknown fields and converts query strings to the DTO's types; errors name the field,
 * one message per invalid field (its first failed rule: `limit=abc` is "not an integer", not
 * also "greater than 100").
 */
export const adminValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  stopAtFirstError: true,
  validationError: { target: false, value: false },
});

/**
 * Every admin controller is declared with this, so none can miss authentication, scopes, the
 * rate limit, validation, the transcript-read audit or the error filter. (A test also enumerates
 * the routes.) Scoped here rather than app-wide, so Twilio's webhooks pay for none of it.
 */
export function AdminController(path: string, tag: string): ClassDecorator {
  return applyDecorators(
    Controller(`admin/${path}`.replace(/\/$/, '')),
    ApiTags(tag),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'No key, an unknown key or a revoked key.' }),
    ApiForbiddenResponse({ description: 'The key lacks the scope this route needs.' }),
    ApiTooManyRequestsResponse({ description: 'Rate limit of the key exceeded; see Retry-After.' }),
    UseGuards(ApiKeyGuard, RateLimitGuard),
    UsePipes(adminValidationPipe),
    UseInterceptors(TranscriptReadAuditInterceptor),
    UseFilters(AdminExceptionFilter),
  );
}
