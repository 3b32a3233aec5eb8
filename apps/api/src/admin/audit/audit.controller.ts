import { Get, Header, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AuditRepository } from '#libs/database';
import { AdminController } from '../admin-controller.decorator.js';
import { InvalidCursorError } from '../admin-errors.js';
import { RequireScope } from '../auth/scopes.decorator.js';
import { AuditQuery } from './audit.query.js';

class AuditEntryDto {
  @ApiProperty() id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ example: 'read_transcript' }) action: string;
  @ApiProperty({ description: 'API key id, or "retention" for the scheduled job.' }) keyId: string;
  @ApiPropertyOptional({ nullable: true, type: String }) keyName: string | null;
  @ApiProperty({ example: 'GET /admin/calls/CA…/transcript' }) route: string;
  @ApiPropertyOptional({ nullable: true, type: String }) callSid: string | null;
  @ApiPropertyOptional({ nullable: true }) data: unknown;
}

class AuditListDto {
  @ApiProperty({ type: [AuditEntryDto] }) items: AuditEntryDto[];
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Pass as `cursor` for the next (older) page; null at the end.' })
  nextCursor: string | null;
}

function encode(at: Date, id: string): string {
  return Buffer.from(`${at.getTime()}.${id}`).toString('base64url');
}

function decode(cursor: string): { at: Date; id: string } {
  const m = /^(\d{1,15})\.(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError('cursor is malformed');
  return { at: new Date(Number(m[1])), id: m[2] };
}

/** The audit trail: transcript reads and erasures (by key or by the retention job), newest first. */
@AdminController('audit', 'audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @RequireScope('admin')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Who read or erased which transcript, when and by which route (newest first, cursor-paged).' })
  @ApiOkResponse({ type: AuditListDto })
  async list(@Query() query: AuditQuery): Promise<AuditListDto> {
    const limit = query.limit ?? 50;
    const rows = await this.audit.list({
      limit: limit + 1,
      before: query.cursor ? decode(query.cursor) : undefined,
      callSid: query.callSid,
      action: query.action,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => ({ ...r, at: r.at.toISOString() })),
      nextCursor: rows.length > limit && last ? encode(last.at, last.id) : null,
    };
  }
}
