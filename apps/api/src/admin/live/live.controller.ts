import { Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { CallSessionStore, type CallSession } from '#libs/sessions';
import { AdminController } from '../admin-controller.decorator.js';
import { RequireScope } from '../auth/scopes.decorator.js';
import { LiveCallDto, LiveCallsDto } from '../dto/live.dto.js';

function toLiveCall(s: CallSession, now: number): LiveCallDto {
  const started = Date.parse(s.startedAt);
  return {
    callSid: s.callSid,
    direction: s.direction,
    mode: s.mode,
    agentName: s.agentName,
    fromNumber: s.from ?? null,
    toNumber: s.to ?? null,
    startedAt: s.startedAt,
    durationSec: Number.isFinite(started) ? Math.max(0, Math.floor((now - started) / 1000)) : 0,
    turns: s.seq,
    callerTurns: s.callerTurns,
  };
}

@AdminController('live', 'live')
export class LiveController {
  constructor(private readonly sessions: CallSessionStore) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Calls in progress, from their live sessions in Redis (oldest first, at most 500).' })
  @ApiOkResponse({ type: LiveCallsDto })
  async list(): Promise<LiveCallsDto> {
    const now = Date.now();
    return { items: (await this.sessions.listLive()).map((s) => toLiveCall(s, now)) };
  }
}
