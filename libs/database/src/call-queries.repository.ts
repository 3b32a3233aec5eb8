import { Injectable } from '@nestjs/common';
import { Prisma } from './generated/client.js';
import { PrismaService } from './prisma.service.js';
import type { CallDirection, CallMode } from './records.js';

/** Filters of the operator's call listing; every one is optional and they combine with AND. */
export interface CallListFilter {
  status?: string;
  direction?: CallDirection;
  mode?: CallMode;
  fromNumber?: string;
  toNumber?: string;
  /** Inclusive lower bound of `startedAt`. */
  since?: Date;
  /** Exclusive upper bound of `startedAt`. */
  until?: Date;
  disposition?: string;
  /** Full-text query over the transcript, in web-search syntax ("quoted phrase", -word, or). */
  q?: string;
}

/** `recent`: newest first. `relevance`: best search rank first (needs `q`), newest first among equals. */
export type CallListSort = 'recent' | 'relevance';

/** Keyset position: the last row of the previous page. */
export interface CallListPosition {
  startedAt: Date;
  id: string;
  /** Search rank of the row, for `relevance` order. */
  rank?: number;
}

export interface CallListRow {
  id: string;
  callSid: string;
  direction: CallDirection;
  mode: CallMode;
  agentName: string;
  status: string;
  fromNumber: string | null;
  toNumber: string | null;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  durationSec: number | null;
  disposition: string | null;
  intent: string | null;
  erasedAt: Date | null;
  /** Search rank (sum of the matching turns' ts_rank); null without `q`. */
  rank: number | null;
  /** The best matching turn with the hits between `**`; null without `q`. */
  snippet: string | null;
}

export interface CallStatsRow {
  totalCalls: number;
  averageDurationSec: number | null;
  transferRate: number | null;
  medianAgentLatencyMs: number | null;
  perDay: { day: string; calls: number }[];
}

const COLUMNS = Prisma.sql`c.id::text AS id, c."callSid", c.direction::text AS direction, c.mode::text AS mode, c."agentName",
  c.status, c."fromNumber", c."toNumber", c."startedAt", c."answeredAt", c."endedAt", c."durationSec", c.disposition, c.intent, c."erasedAt"`;

// Short snippets with the hits marked in plain text: the text is raw caller speech, so markup
// such as <b> would invite HTML injection in whatever renders it.
const HEADLINE = 'StartSel="**", StopSel="**", MaxWords=18, MinWords=6, ShortWord=2, MaxFragments=1';

/**
 * Read side of the operator API: filtered, searched and keyset-paginated call listings, and
 * aggregate statistics. Raw SQL because Prisma cannot express tsvector search or row-value
 * keyset comparisons; every value is a bound parameter, never spliced into the text.
 */
@Injectable()
export class CallQueriesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** One page of calls (at most `limit` rows) after `after`, in the order `sort` names. */
  listCalls(filter: CallListFilter, sort: CallListSort, after: CallListPosition | undefined, limit: number): Promise<CallListRow[]> {
    if (!filter.q) return this.listPlain(filter, after, limit);
    return sort === 'relevance' ? this.listByRelevance(filter, filter.q, after, limit) : this.listRecentMatches(filter, filter.q, after, limit);
  }

  private listPlain(filter: CallListFilter, after: CallListPosition | undefined, limit: number): Promise<CallListRow[]> {
    const where = [...conditions(filter), ...(after ? [recentAfter(after)] : [])];
    return this.prisma.$queryRaw<CallListRow[]>`
      SELECT ${COLUMNS}, NULL::real AS rank, NULL::text AS snippet
      FROM calls c
      ${whereClause(where)}
      ORDER BY c."startedAt" DESC, c.id DESC
      LIMIT ${limit}`;
  }

  /** Newest calls with at least one matching turn; rank and snippet are computed for the page only. */
  private listRecentMatches(filter: CallListFilter, q: string, after: CallListPosition | undefined, limit: number): Promise<CallListRow[]> {
    const where = [
      ...conditions(filter),
      Prisma.sql`EXISTS (SELECT 1 FROM turns t WHERE t."callSid" = c."callSid" AND t."textSearch" @@ query.q)`,
      ...(after ? [recentAfter(after)] : []),
    ];
    return this.prisma.$queryRaw<CallListRow[]>`
      WITH query AS MATERIALIZED (SELECT websearch_to_tsquery('english', ${q}) AS q),
      page AS (
        SELECT ${COLUMNS}
        FROM calls c, query
        ${whereClause(where)}
        ORDER BY c."startedAt" DESC, c.id DESC
        LIMIT ${limit}
      )
      SELECT page.*, best.rank, best.snippet
      FROM page, query, LATERAL (${bestMatch(Prisma.sql`page."callSid"`)}) best
      ORDER BY page."startedAt" DESC, page.id DESC`;
  }

  /** Calls ranked by the summed rank of their matching turns; keyset on (rank, startedAt, id). */
  private listByRelevance(filter: CallListFilter, q: string, after: CallListPosition | undefined, limit: number): Promise<CallListRow[]> {
    const where = [
      ...conditions(filter),
      ...(after ? [Prisma.sql`(h.rank, c."startedAt", c.id) < (${after.rank ?? 0}::real, ${after.startedAt}::timestamptz, ${after.id}::uuid)`] : []),
    ];
    return this.prisma.$queryRaw<CallListRow[]>`
      WITH query AS MATERIALIZED (SELECT websearch_to_tsquery('english', ${q}) AS q),
      hits AS (
        SELECT t."callSid", sum(ts_rank(t."textSearch", query.q))::real AS rank
        FROM turns t, query
        WHERE t."textSearch" @@ query.q
        GROUP BY t."callSid"
      ),
      page AS (
        SELECT ${COLUMNS}, h.rank
        FROM hits h JOIN calls c ON c."callSid" = h."callSid"
        ${whereClause(where)}
        ORDER BY h.rank DESC, c."startedAt" DESC, c.id DESC
        LIMIT ${limit}
      )
      SELECT page.*, best.snippet
      FROM page, query, LATERAL (${bestMatch(Prisma.sql`page."callSid"`)}) best
      ORDER BY page.rank DESC, page."startedAt" DESC, page.id DESC`;
  }

  /** Calls per UTC day, average duration, transfer rate and median agent latency of calls started in [since, until). */
  async stats(since: Date, until: Date): Promise<CallStatsRow> {
    const [summary] = await this.prisma.$queryRaw<Omit<CallStatsRow, 'perDay'>[]>`
      SELECT count(*)::int AS "totalCalls",
        avg(c."durationSec")::float8 AS "averageDurationSec",
        (count(*) FILTER (WHERE c.disposition = 'transferred'))::float8 / nullif(count(c.disposition), 0) AS "transferRate",
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t."latencyMs")
           FROM turns t JOIN calls c2 ON c2."callSid" = t."callSid"
           WHERE c2."startedAt" >= ${since} AND c2."startedAt" < ${until}
             AND t.speaker = 'agent' AND t."latencyMs" IS NOT NULL)::float8 AS "medianAgentLatencyMs"
      FROM calls c
      WHERE c."startedAt" >= ${since} AND c."startedAt" < ${until}`;
    const perDay = await this.prisma.$queryRaw<{ day: string; calls: number }[]>`
      SELECT to_char(c."startedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS calls
      FROM calls c
      WHERE c."startedAt" >= ${since} AND c."startedAt" < ${until}
      GROUP BY 1 ORDER BY 1`;
    return { ...summary, perDay };
  }
}

function conditions(f: CallListFilter): Prisma.Sql[] {
  const out: Prisma.Sql[] = [];
  if (f.status) out.push(Prisma.sql`c.status = ${f.status}`);
  if (f.direction) out.push(Prisma.sql`c.direction = ${f.direction}::"CallDirection"`);
  if (f.mode) out.push(Prisma.sql`c.mode = ${f.mode}::"CallMode"`);
  if (f.fromNumber) out.push(Prisma.sql`c."fromNumber" = ${f.fromNumber}`);
  if (f.toNumber) out.push(Prisma.sql`c."toNumber" = ${f.toNumber}`);
  if (f.since) out.push(Prisma.sql`c."startedAt" >= ${f.since}::timestamptz`);
  if (f.until) out.push(Prisma.sql`c."startedAt" < ${f.until}::timestamptz`);
  if (f.disposition) out.push(Prisma.sql`c.disposition = ${f.disposition}`);
  return out;
}

/** Row-value comparison: matches the (startedAt DESC, id DESC) index, so a page is an index range scan. */
function recentAfter(after: CallListPosition): Prisma.Sql {
  return Prisma.sql`(c."startedAt", c.id) < (${after.startedAt}::timestamptz, ${after.id}::uuid)`;
}

function whereClause(parts: Prisma.Sql[]): Prisma.Sql {
  return parts.length ? Prisma.sql`WHERE ${Prisma.join(parts, ' AND ')}` : Prisma.empty;
}

/** Rank of a call's matching turns and a headline of its best one (needs `query` in scope). */
function bestMatch(callSid: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    SELECT sum(r.rank)::real AS rank,
      (array_agg(ts_headline('english', r.text, query.q, ${HEADLINE}) ORDER BY r.rank DESC, r.seq))[1] AS snippet
    FROM (
      SELECT t.text, t.seq, ts_rank(t."textSearch", query.q) AS rank
      FROM turns t
      WHERE t."callSid" = ${callSid} AND t."textSearch" @@ query.q
    ) r`;
}
