import { Module } from '@nestjs/common';
import { TwilioRestService } from '#libs/telephony';
import { AdminExceptionFilter } from './admin-exception.filter.js';
import { AuditController } from './audit/audit.controller.js';
import { TranscriptReadAuditInterceptor } from './audit/transcript-read-audit.interceptor.js';
import { ApiKeyAuthService } from './auth/api-key-auth.service.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { RateLimitGuard } from './auth/rate-limit.guard.js';
import { CallErasureService } from './calls/call-erasure.service.js';
import { CallQueryService } from './calls/call-query.service.js';
import { CallsController } from './calls/calls.controller.js';
import { OutboundCallService } from './calls/outbound-call.service.js';
import { ApiKeysController } from './keys/api-keys.controller.js';
import { ApiKeysService } from './keys/api-keys.service.js';
import { LiveEventsController } from './live/live-events.controller.js';
import { LiveFeed } from './live/live-feed.service.js';
import { LiveController } from './live/live.controller.js';
import { StatsBreakdownController } from './stats/breakdown.controller.js';
import { StatsController } from './stats/stats.controller.js';
import { StatsService } from './stats/stats.service.js';

/**
 * The operator API under /admin: API-key auth with scopes, a per-key rate limit, validation and
 * an error filter on every controller (see AdminController). Documented at /docs.
 */
@Module({
  controllers: [CallsController, LiveController, StatsController, ApiKeysController, AuditController, LiveEventsController, StatsBreakdownController],
  providers: [
    ApiKeyAuthService, ApiKeyGuard, RateLimitGuard, AdminExceptionFilter,
    CallQueryService, CallErasureService, OutboundCallService, StatsService, ApiKeysService, TwilioRestService,
    LiveFeed,
    TranscriptReadAuditInterceptor,
  ],
})
export class AdminModule {}
