import { Body, Delete, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminController } from '../admin-controller.decorator.js';
import { CurrentKey, type Principal } from '../auth/principal.js';
import { RequireScope } from '../auth/scopes.decorator.js';
import { CallSidParams } from '../dto/call-sid.params.js';
import { CallDetailDto, CallListDto, ErasedCallDto, TranscriptDto } from '../dto/call.dto.js';
import { CreateCallDto, CreatedCallDto } from '../dto/create-call.dto.js';
import { ListCallsQuery } from '../dto/list-calls.query.js';
import { TranscriptQuery } from '../dto/transcript.query.js';
import { CallErasureService } from './call-erasure.service.js';
import { CallQueryService } from './call-query.service.js';
import { OutboundCallService } from './outbound-call.service.js';

@AdminController('calls', 'calls')
@ApiBadRequestResponse({ description: 'Invalid parameters; the message names the field.' })
export class CallsController {
  constructor(
    private readonly query: CallQueryService,
    private readonly erasure: CallErasureService,
    private readonly outbound: OutboundCallService,
  ) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'List and search calls, newest (or most relevant) first, with cursor pagination.' })
  @ApiOkResponse({ type: CallListDto })
  list(@Query() query: ListCallsQuery): Promise<CallListDto> {
    return this.query.list(query);
  }

  @Get(':callSid')
  @RequireScope('read')
  @ApiOperation({ summary: 'A call with its ordered turns and events.' })
  @ApiOkResponse({ type: CallDetailDto })
  @ApiNotFoundResponse({ description: 'Unknown call.' })
  get(@Param() params: CallSidParams): Promise<CallDetailDto> {
    return this.query.get(params.callSid);
  }

  @Get(':callSid/transcript')
  @RequireScope('read')
  @ApiOperation({ summary: 'Readable transcript: text/plain, or JSON with ?format=json.' })
  @ApiProduces('text/plain', 'application/json')
  @ApiOkResponse({ type: TranscriptDto, description: 'text/plain by default; this JSON with format=json.' })
  @ApiNotFoundResponse({ description: 'Unknown call.' })
  async transcript(
    @Param() params: CallSidParams,
    @Query() query: TranscriptQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string | TranscriptDto> {
    if (query.format === 'json') return this.query.transcript(params.callSid, 'json');
    res.type('text/plain; charset=utf-8');
    return this.query.transcript(params.callSid, 'text');
  }

  @Post()
  @RequireScope('write')
  @ApiOperation({ summary: 'Place an outbound call through Twilio; status callbacks come back to /twilio/status.' })
  @ApiCreatedResponse({ type: CreatedCallDto })
  place(@Body() body: CreateCallDto, @CurrentKey() key: Principal): Promise<CreatedCallDto> {
    return this.outbound.place(body, key);
  }

  @Delete(':callSid')
  @RequireScope('admin')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Erase what was said on a call (privacy request); leaves an audit event.' })
  @ApiOkResponse({ type: ErasedCallDto })
  @ApiNotFoundResponse({ description: 'Unknown call.' })
  @ApiConflictResponse({ description: 'The call is still in progress.' })
  erase(@Param() params: CallSidParams, @CurrentKey() key: Principal): Promise<ErasedCallDto> {
    return this.erasure.erase(params.callSid, key);
  }
}
