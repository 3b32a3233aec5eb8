import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig } from '#libs/config';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `METRICS_TOKEN` set: `/metrics` wants `Authorization: Bearer <token>` (Prometheus's
 * `authorization` scrape setting). Unset: open, for a scrape on a private network only.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(config: AppConfig) {
    this.expected = config.METRICS_TOKEN ? digest(config.METRICS_TOKEN) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const header = context.switchToHttp().getRequest<Request>().header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Hashing first gives equal lengths, so the comparison is constant-time whatever was sent.
    if (match && timingSafeEqual(digest(match[1].trim()), this.expected)) return true;
    throw new UnauthorizedException('metrics token required');
  }
}
