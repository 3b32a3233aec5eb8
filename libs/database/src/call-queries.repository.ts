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

/** Newest calls probed for a term before falling back to the GIN index (see listRecentMatches). */
const RECENT_WINDOW = 500;
/**
 * Relevance order for a term without call filters ranks the matches among the most recently
 * written RELEVANCE_RECENT_TURNS turns (a BitmapAnd of the GIN index and the primary key's
 * range), when they hold at least RELEVANCE_CANDIDATES calls; if they hold fewer, once more
 * in a window widened to hold about twice that many; otherwise (a rare term — judged first
 * from the planner's estimate, without a probe — or filters) every match is ranked. Ranking every match of a broad term
 * reads most of the turns table (431 ms p99 at 1M turns, docs/BENCHMARKS.md).
 */
export const RELEVANCE_RECENT_TURNS = 20_000;
export const RELEVANCE_CANDIDATES = 500;

const COLUMNS = Prisma.sql`c.id::text AS id, c."callSid", c.direction::text AS direction, c.mode::text AS mode, c."agentName",
  c.status, c."fromNumber", c."toNumber", c."startedAt", c."answeredAt", c."endedAt", c."durationSec", c.disposition, c.intent, c."erasedAt"`;

// Short snippets with the hits marked in plain text: the text is raw caller speech, so markup
// such as <b> would invite HTML injection in whatever renders it.
const HEADLINE = 'StartSel="**", StopSel="**", MaxWords=18, MinWords=6, ShortWord=2, MaxFragments=1';

/**
 * Read side of the operator API: filtered, searched and keyset-paginated call listings. Raw SQL
 * because Prisma cannot express tsvector search or row-value keyset comparisons; every value is
 * a bound parameter, never spliced into the text.
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

  /**
   * Newest calls with at least one matching turn. No single plan suits every term: walking calls
   * newest first and probing their turns finds a broad term ("bill") at once but scans every call
   * for a rare one, while collecting all matching turns first (GIN) is instant for a rare term
   * and reads most of the turns table for a broad one. Postgres cannot tell them apart (a
   * tsquery's selectivity is a guess), so: probe a bounded window of the newest calls first, and
   * only when it is not enough, collect the matches of the older calls through the GIN index.
   */
  private async listRecentMatches(filter: CallListFilter, q: string, after: CallListPosition | undefined, limit: number): Promise<CallListRow[]> {
    const base = conditions(filter);
    const window = await this.prisma.$queryRaw<CallListRow[]>`
      SELECT w.* FROM (
        SELECT ${COLUMNS} FROM calls c
        ${whereClause([...base, ...(after ? [recentAfter(after)] : [])])}
        ORDER BY c."startedAt" DESC, c.id DESC
        LIMIT ${RECENT_WINDOW}
      ) w
      -- LATERAL … LIMIT 1 rather than EXISTS: Postgres cannot turn it into a hash semi-join that
      -- reads every match of the term (it does so for phrases, whose selectivity it underestimates).
      CROSS JOIN LATERAL (
        SELECT 1 FROM turns t WHERE t."callSid" = w."callSid" AND t."textSearch" @@ websearch_to_tsquery('english', ${q}) LIMIT 1
      ) hit
      ORDER BY w."startedAt" DESC, w.id DESC
      LIMIT ${limit}`;
    let rows = window;
    if (rows.length < limit) {
      const [edge] = await this.prisma.$queryRaw<{ id: string; startedAt: Date }[]>`
        SELECT c.id::text AS id, c."startedAt" FROM calls c
        ${whereClause([...base, ...(after ? [recentAfter(after)] : [])])}
        ORDER BY c."startedAt" DESC, c.id DESC
        OFFSET ${RECENT_WINDOW - 1} LIMIT 1`;
      if (edge) rows = [...rows, ...(await this.olderMatches(base, q, edge, limit - rows.length))];
    }
    return this.withMatches(rows, q);
  }

  /** Matches older than `edge`, collected through the GIN index (MATERIALIZED keeps Postgres from walking calls instead). */
  private olderMatches(base: Prisma.Sql[], q: string, edge: CallListPosition, limit: number): Promise<CallListRow[]> {
    return this.prisma.$queryRaw<CallListRow[]>`
      WITH matches AS MATERIALIZED (
        SELECT DISTINCT t."callSid" FROM turns t WHERE t."textSearch" @@ websearch_to_tsquery('english', ${q})
      )
      SELECT ${COLUMNS} FROM calls c JOIN matches m ON m."callSid" = c."callSid"
      ${whereClause([...base, recentAfter(edge)])}
      ORDER BY c."startedAt" DESC, c.id DESC
      LIMIT ${limit}`;
  }

  /** Adds rank and snippet to a page of calls (a few turns each: cheap). */
  private async withMatches(rows: CallListRow[], q: string): Promise<CallListRow[]> {
    if (rows.length === 0) return rows;
    const matches = await this.prisma.$queryRaw<{ callSid: string; rank: number | null; snippet: string | null }[]>`
      WITH query AS MATERIALIZED (SELECT websearch_to_tsquery('english', ${q}) AS q)
      SELECT p."callSid", best.rank, best.snippet
      FROM unnest(${rows.map((r) => r.callSid)}::text[]) AS p("callSid"), query, LATERAL (${bestMatch(Prisma.sql`p."callSid"`)}) best`;
    const byCall = new Map(matches.map((m) => [m.callSid, m]));
    return rows.map((r) => ({ ...r, rank: byCall.get(r.callSid)?.rank ?? 0, snippet: byCall.get(r.callSid)?.snippet ?? '' }));
  }

  /**
   * Calls ranked by the summed rank of their matching turns; keyset on (rank, startedAt, id).
   * A broad term without filters is ranked among recent turns (RELEVANCE_RECENT_TURNS), so it
   * costs a few thousand heap reads instead of a pass over all its matches.
   */
  private async listByRelevance(filter: CallListFilter, q: string, after: CallListPosition | undefined, limit: number): Promise<CallListRow[]> {
    const base = conditions(filter);
    if (base.length === 0) {
      const [{ maxId, total }] = await this.prisma.$queryRaw<{ maxId: bigint | null; total: number }[]>`
        SELECT max(id) AS "maxId", (SELECT reltuples FROM pg_class WHERE oid = 'turns'::regclass)::float8 AS total FROM turns`;
      const newest = maxId ?? 0n;
      let window = RELEVANCE_RECENT_TURNS;
      if (newest > BigInt(window) && (await this.windowLikelyEnough(q, Number(total)))) {
        // At most two probes: the window, then once widened to hold about twice the candidates
        // at the rate the first probe found them (a term of middling frequency such as the
        // phrase "double charge", ~480 calls in the window, would otherwise rank all 24,669 matches).
        for (let probe = 1; probe <= 2 && newest > 2n * BigInt(window); probe++) {
          const rows = await this.rankedPage(recentHits(newest - BigInt(window), q), q, after, limit);
          const candidates = rows.length > 0 ? Number(rows[0].candidates) : 0;
          if (candidates >= RELEVANCE_CANDIDATES) return rows.map(({ candidates: _, ...row }) => row);
          if (candidates === 0) break;
          window = Math.ceil((window * 2 * RELEVANCE_CANDIDATES) / candidates);
        }
      }
    }
    // No filters: every matching turn, aggregated first (a join would hash all calls); filters: in the join.
    const rows = await this.rankedPage(base.length ? allHits(base, q) : recentHits(0n, q), q, after, limit);
    return rows.map(({ candidates: _, ...row }) => row);
  }

  /**
   * Whether the recent window can be expected to hold RELEVANCE_CANDIDATES matches: judged from
   * the planner's row estimate (column statistics, no table read, well under a millisecond) for
   * an upper bound of the query — its words joined by OR, negations dropped, because the
   * planner multiplies the words of a phrase as if independent ("double charge": 1,147 estimated,
   * 24,669 true). A rare term then skips the probe that would fail anyway (it cost the rare
   * term ~18 ms and a second query); a wrong guess only costs that probe, as before.
   */
  private async windowLikelyEnough(q: string, totalTurns: number): Promise<boolean> {
    if (!(totalTurns > 0)) return true; // never analysed: no estimate to trust
    // A lexeme the bound cannot be built from is no reason to fail the search: probe the window then.
    const [plan] = await this.prisma.$queryRaw<{ 'QUERY PLAN': unknown }[]>`
      EXPLAIN (FORMAT JSON) SELECT 1 FROM turns t WHERE t."textSearch" @@ ${upperBoundQuery(q)}`.catch(() => []);
    const json = plan?.['QUERY PLAN'];
    const parsed = (typeof json === 'string' ? JSON.parse(json) : json) as { Plan?: { 'Plan Rows'?: number } }[] | undefined;
    const estimate = parsed?.[0]?.Plan?.['Plan Rows'];
    if (typeof estimate !== 'number') return true;
    return (estimate * Math.min(RELEVANCE_RECENT_TURNS, totalTurns)) / totalTurns >= RELEVANCE_CANDIDATES;
  }

  /**
   * One page of `hits` (a query of call id, startedAt and rank) in rank order, with snippets and
   * the number of hits. The page is cut from `hits` before the calls are joined: the join then
   * reads `limit` calls, not one per hit (6,474 index probes for a rare term at 1M turns).
   */
  private rankedPage(hits: Prisma.Sql, q: string, after: CallListPosition | undefined, limit: number) {
    const keyset = after
      ? Prisma.sql`WHERE (h.rank, h."startedAt", h.id) < (${after.rank ?? 0}::real, ${after.startedAt}::timestamptz, ${after.id}::uuid)`
      : Prisma.empty;
    return this.prisma.$queryRaw<(CallListRow & { candidates: bigint })[]>`
      WITH query AS MATERIALIZED (SELECT websearch_to_tsquery('english', ${q}) AS q),
      hits AS MATERIALIZED (${hits}),
      top AS (
        SELECT h.id, h.rank FROM hits h
        ${keyset}
        ORDER BY h.rank DESC, h."startedAt" DESC, h.id DESC
        LIMIT ${limit}
      ),
      page AS (SELECT ${COLUMNS}, top.rank FROM top JOIN calls c ON c.id = top.id)
      SELECT page.*, best.snippet, (SELECT count(*) FROM hits) AS candidates
      FROM page, query, LATERAL (${bestMatch(Prisma.sql`page."callSid"`)}) best
      ORDER BY page.rank DESC, page."startedAt" DESC, page.id DESC`;
  }
}

/**
 * An upper bound of the search's matches as a tsquery: its lexemes joined by OR (phrase, AND
 * and NOT operators dropped). websearch_to_tsquery and the casts are immutable, so with the
 * value bound the planner folds it into a constant and estimates it from the column statistics.
 */
function upperBoundQuery(q: string): Prisma.Sql {
  return Prisma.sql`regexp_replace(replace(websearch_to_tsquery('english', ${q})::text, '!', ''), '<[0-9]*-?>|&', '|', 'g')::tsquery`;
}

/**
 * Every call with a match, ranked; the call filters sit in the same join so a selective one (a
 * number) is applied first. Inline tsquery rather than from the `query` CTE: a constant lets the
 * planner use the column statistics (a hash join for a broad term instead of 60,000 index probes).
 */
function allHits(base: Prisma.Sql[], q: string): Prisma.Sql {
  const tsquery = Prisma.sql`websearch_to_tsquery('english', ${q})`;
  return Prisma.sql`
    SELECT c.id, c."startedAt", sum(ts_rank(t."textSearch", ${tsquery}))::real AS rank
    FROM calls c JOIN turns t ON t."callSid" = c."callSid"
    ${whereClause([...base, Prisma.sql`t."textSearch" @@ ${tsquery}`])}
    GROUP BY c.id`;
}

/**
 * Calls with a match among the turns written after `floor`: aggregated first, then the calls
 * fetched by key (ANY of an array: a bitmap index scan, where a plain join would hash all calls).
 */
function recentHits(floor: bigint, q: string): Prisma.Sql {
  const tsquery = Prisma.sql`websearch_to_tsquery('english', ${q})`;
  return Prisma.sql`
    WITH r AS MATERIALIZED (
      SELECT t."callSid", sum(ts_rank(t."textSearch", ${tsquery}))::real AS rank
      FROM turns t WHERE t.id > ${floor} AND t."textSearch" @@ ${tsquery}
      GROUP BY t."callSid"
    )
    SELECT c.id, c."startedAt", r.rank FROM r JOIN calls c ON c."callSid" = r."callSid"
    WHERE c."callSid" = ANY (ARRAY(SELECT "callSid" FROM r))`;
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
