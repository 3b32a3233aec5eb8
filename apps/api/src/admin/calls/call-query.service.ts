import { Injectable } from '@nestjs/common';
import { CallQueriesRepository, CallsRepository, type CallListFilter, type CallListSort } from '#libs/database';
import { CallNotFoundError, InvalidQueryError } from '../admin-errors.js';
import type { CallDetailDto, CallListDto, TranscriptDto } from '../dto/call.dto.js';
import type { ListCallsQuery } from '../dto/list-calls.query.js';
import { toCallDetail, toListItem } from './call-mapper.js';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.js';
import { transcriptJson, transcriptText } from './transcript-format.js';

const DEFAULT_LIMIT = 25;

/** Listing, search and reading of stored calls. */
@Injectable()
export class CallQueryService {
  constructor(
    private readonly queries: CallQueriesRepository,
    private readonly calls: CallsRepository,
  ) {}

  async list(query: ListCallsQuery): Promise<CallListDto> {
    const filter: CallListFilter = {
      status: query.status,
      direction: query.direction,
      mode: query.mode,
      fromNumber: query.from,
      toNumber: query.to,
      since: query.since ? new Date(query.since) : undefined,
      until: query.until ? new Date(query.until) : undefined,
      disposition: query.disposition,
      q: query.q,
    };
    // Newest first by default, also with q: ranking every match of a broad term (say "bill", in
    // half the calls) reads most of the turns table, so best-match order is asked for explicitly.
    const sort: CallListSort = query.sort ?? 'recent';
    if (sort === 'relevance' && !query.q) throw new InvalidQueryError('sort=relevance needs q');
    const fingerprint = queryFingerprint(filter, sort);
    const after = query.cursor ? decodeCursor(query.cursor, sort, fingerprint) : undefined;
    const limit = query.limit ?? DEFAULT_LIMIT;
    // One row more than asked tells whether another page exists without a count query.
    const rows = await this.queries.listCalls(filter, sort, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > limit && last ? encodeCursor({ startedAt: last.startedAt, id: last.id, rank: last.rank ?? undefined }, sort, fingerprint) : null;
    return { items: page.map(toListItem), nextCursor };
  }

  async get(callSid: string): Promise<CallDetailDto> {
    return toCallDetail(await this.load(callSid));
  }

  async transcript(callSid: string, format: 'text'): Promise<string>;
  async transcript(callSid: string, format: 'json'): Promise<TranscriptDto>;
  async transcript(callSid: string, format: 'text' | 'json'): Promise<string | TranscriptDto> {
    const call = await this.load(callSid);
    return format === 'json' ? transcriptJson(call, call.turns) : transcriptText(call, call.turns);
  }

  private async load(callSid: string) {
    const call = await this.calls.findWithTranscript(callSid);
    if (!call) throw new CallNotFoundError(callSid);
    return call;
  }
}
