import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { from, mergeMap, type Observable } from 'rxjs';
import { AuditRepository } from '#libs/database';
import type { Principal } from '../auth/principal.js';

/** GET /admin/calls/<sid> and GET /admin/calls/<sid>/transcript (any query string). */
const TRANSCRIPT_READ = /^\/admin\/calls\/(CA[0-9a-fA-F]{32})(\/transcript)?\/?(?:\?|$)/;

interface RequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  principal?: Principal;
}

/**
 * Leaves an audit entry (key, route, time) for every successful admin read of a transcript,
 * written before the response goes out, so a read the trail does not show never happened.
 * Matches on the request path rather than on a controller, so it keeps working whatever the
 * HTTP adapter or the controller's shape; routes that failed (401, 404 …) leave nothing.
 */
@Injectable()
export class TranscriptReadAuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditRepository) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<RequestLike>();
    const url = req.originalUrl ?? req.url ?? '';
    const match = req.method === 'GET' ? TRANSCRIPT_READ.exec(url) : null;
    if (!match || !req.principal) return next.handle();
    const principal = req.principal;
    return next.handle().pipe(
      mergeMap((body) =>
        from(
          this.audit
            .record({
              action: match[2] ? 'read_transcript' : 'read_call',
              keyId: principal.keyId,
              keyName: principal.name,
              route: `GET ${url.split('?')[0]}`,
              callSid: match[1],
              data: url.includes('?') ? { query: url.slice(url.indexOf('?') + 1, url.indexOf('?') + 200) } : undefined,
            })
            .then(() => body),
        ),
      ),
    );
  }
}
