import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TERMINAL_STATUSES, TURN_STAGES, type CallEventRecord, type CallMode, type CallStartRecord, type CallStatusRecord, type TurnRecord, type TurnTimings } from '#libs/database';

/** Which process exports the metrics; a constant `app` label on every series. */
export type MetricsApp = 'api' | 'worker';
export const METRICS_APP = Symbol('METRICS_APP');
/** METRICS_ENABLED: false turns every recording method into a no-op (the benchmark's baseline). */
export const METRICS_ENABLED = Symbol('METRICS_ENABLED');

/** Outcome of one model request, as the provider saw it. */
export type ModelOutcome = 'ok' | 'retry' | '429' | '5xx' | 'timeout' | 'cancelled' | 'error';
export type JobOutcome = 'completed' | 'failed';
export type SocketKind = 'media' | 'relay';
export type MissReason = 'no_input' | 'low_confidence';
export type StoreName = 'redis' | 'postgres';

/** A sample read at scrape time (queue counts, live calls, spool depth). */
export type GaugeReader = (set: (labels: Record<string, string>, value: number) => void) => Promise<void> | void;

/** Latency buckets (s) around what a caller notices: 50 ms … 15 s (Twilio's webhook limit). */
const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 12, 15];
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TURN_STAGE_SET = new Set<string>(TURN_STAGES);
const MODES = new Set<string>(['gather', 'stream', 'relay']);
const TERMINAL = new Set<string>(TERMINAL_STATUSES);

/** What one webhook or socket event adds to a call's transcript (the durable writer's batch). */
export interface CallWriteBatch {
  call?: CallStartRecord;
  turns?: TurnRecord[];
  events?: CallEventRecord[];
  status?: CallStatusRecord;
}

/**
 * Every Prometheus family the apps export, behind intention-revealing methods. One registry
 * per app instance (the tests run an api and a worker in one process). Labels are bounded
 * by construction: routes, modes, stages, queues and outcomes are small fixed sets; nothing
 * call-specific (CallSid, phone number) ever becomes a label.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly webhookDuration = new Histogram({
    name: 'switchboard_webhook_duration_seconds',
    help: 'Twilio webhook handling time, from request in to response finished',
    labelNames: ['route', 'status_class'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly signatureRejections = new Counter({
    name: 'switchboard_webhook_signature_rejections_total',
    help: 'Twilio requests and socket upgrades refused for a missing or wrong X-Twilio-Signature',
    labelNames: ['route'],
    registers: [this.registry],
  });
  private readonly turnStage = new Histogram({
    name: 'switchboard_turn_stage_seconds',
    help: 'Agent turn latency by stage; stage="total" is what the caller waited',
    labelNames: ['mode', 'stage'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly bargeIns = new Counter({
    name: 'switchboard_barge_ins_total',
    help: 'Caller interruptions of the agent',
    labelNames: ['mode'],
    registers: [this.registry],
  });
  private readonly bargeInReaction = new Histogram({
    name: 'switchboard_barge_in_reaction_seconds',
    help: 'From caller speech onset to the clear message sent to Twilio',
    labelNames: ['mode'],
    buckets: FAST_BUCKETS,
    registers: [this.registry],
  });
  private readonly callsStarted = new Counter({
    name: 'switchboard_calls_started_total',
    help: 'Calls answered, by mode',
    labelNames: ['mode'],
    registers: [this.registry],
  });
  private readonly callsEnded = new Counter({
    name: 'switchboard_calls_ended_total',
    help: 'Calls ended, by final Twilio status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly dispositions = new Counter({
    name: 'switchboard_call_dispositions_total',
    help: 'Post-call dispositions stored (transferred, resolved, unresolved, abandoned)',
    labelNames: ['disposition'],
    registers: [this.registry],
  });
  private readonly missedTurns = new Counter({
    name: 'switchboard_missed_turns_total',
    help: 'Caller turns not understood (no input or low confidence)',
    labelNames: ['mode', 'reason'],
    registers: [this.registry],
  });
  private readonly fillers = new Counter({
    name: 'switchboard_fillers_total',
    help: 'Fillers played while the agent was still thinking',
    labelNames: ['mode'],
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: 'switchboard_queue_job_duration_seconds',
    help: 'BullMQ job processing time on this worker, by queue and outcome',
    labelNames: ['queue', 'outcome'],
    buckets: FAST_BUCKETS.concat([15, 30]),
    registers: [this.registry],
  });
  private readonly transcriptLag = new Histogram({
    name: 'switchboard_transcript_lag_seconds',
    help: 'From a turn being spoken to its row stored in Postgres',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly modelRequests = new Counter({
    name: 'switchboard_model_requests_total',
    help: 'Model requests (each attempt) by provider and outcome; retry counts attempts that were retried',
    labelNames: ['provider', 'outcome'],
    registers: [this.registry],
  });
  private readonly agentTurns = new Counter({
    name: 'switchboard_agent_turns_total',
    help: 'Agent turns run by this worker, by provider and outcome (ok, cancelled, timeout, error)',
    labelNames: ['provider', 'outcome'],
    registers: [this.registry],
  });
  /**
   * Socket messages counted since the last scrape. A media socket sends 50 messages a second per
   * call: a plain increment on that path, folded into the counter (one label lookup) at collection.
   */
  private readonly unscrapedSocketMessages: Record<SocketKind, number> = { media: 0, relay: 0 };
  private readonly socketMessages = new Counter({
    name: 'switchboard_media_messages_total',
    help: 'Messages received on Twilio media and relay sockets',
    labelNames: ['socket'],
    registers: [this.registry],
    collect: () => {
      for (const socket of ['media', 'relay'] as const) {
        const n = this.unscrapedSocketMessages[socket];
        if (!n) continue;
        this.unscrapedSocketMessages[socket] = 0;
        this.socketMessages.inc({ socket }, n);
      }
    },
  });
  private readonly socketInvalid = new Counter({
    name: 'switchboard_media_invalid_messages_total',
    help: 'Malformed or unexpected messages on Twilio media and relay sockets',
    labelNames: ['socket'],
    registers: [this.registry],
  });
  private readonly storeErrors = new Counter({
    name: 'switchboard_store_errors_total',
    help: 'Store errors: Redis connection errors, failed Postgres and Redis writes, failed readiness probes',
    labelNames: ['store'],
    registers: [this.registry],
  });

  constructor(
    @Inject(METRICS_APP) readonly app: MetricsApp,
    @Inject(METRICS_ENABLED) readonly enabled: boolean,
  ) {
    this.registry.setDefaultLabels({ app });
    // Event-loop lag, heap, GC, CPU, file descriptors: prom-client's standard process families.
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these three gauges `…_total`, which Prometheus reserves for counters
    // (promtool rejects them); the process's handle count is in process_open_fds anyway.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
  }

  /** The exposition, in Prometheus text format. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** A Twilio webhook finished; `route` is the matched route pattern (never the raw URL). */
  observeWebhook(route: string, status: number, seconds: number): void {
    if (!this.enabled) return;
    this.webhookDuration.observe({ route, status_class: `${Math.floor(status / 100)}xx` }, seconds);
  }

  countSignatureRejection(route: string): void {
    if (!this.enabled) return;
    this.signatureRejections.inc({ route });
  }

  /** One stage of one agent turn. */
  observeTurnStage(mode: CallMode, stage: string, seconds: number): void {
    if (!this.enabled) return;
    if (!MODES.has(mode) || !TURN_STAGE_SET.has(stage) || !(seconds >= 0)) return;
    this.turnStage.observe({ mode, stage }, seconds);
  }

  /** Every stage of one stored agent turn (timings in ms). */
  observeTurn(mode: CallMode, timings: TurnTimings): void {
    if (!this.enabled) return;
    for (const [stage, ms] of Object.entries(timings)) if (typeof ms === 'number') this.observeTurnStage(mode, stage, ms / 1000);
  }

  countBargeIn(mode: CallMode): void {
    if (!this.enabled) return;
    this.bargeIns.inc({ mode });
  }

  observeBargeInReaction(mode: CallMode, seconds: number): void {
    if (!this.enabled) return;
    if (seconds >= 0) this.bargeInReaction.observe({ mode }, seconds);
  }

  countCallStarted(mode: CallMode): void {
    if (!this.enabled) return;
    this.callsStarted.inc({ mode });
  }

  countCallEnded(status: string): void {
    if (!this.enabled) return;
    this.callsEnded.inc({ status });
  }

  countDisposition(disposition: string): void {
    if (!this.enabled) return;
    this.dispositions.inc({ disposition });
  }

  countMissedTurn(mode: CallMode, reason: MissReason): void {
    if (!this.enabled) return;
    this.missedTurns.inc({ mode, reason });
  }

  countFiller(mode: CallMode): void {
    if (!this.enabled) return;
    this.fillers.inc({ mode });
  }

  observeJob(queue: string, outcome: JobOutcome, seconds: number): void {
    if (!this.enabled) return;
    if (seconds >= 0) this.jobDuration.observe({ queue, outcome }, seconds);
  }

  observeTranscriptLag(seconds: number): void {
    if (!this.enabled) return;
    if (seconds >= 0) this.transcriptLag.observe(seconds);
  }

  countModelRequest(provider: string, outcome: ModelOutcome): void {
    if (!this.enabled) return;
    this.modelRequests.inc({ provider, outcome });
  }

  /** One agent turn (one job) ended on this worker. */
  countAgentTurn(provider: string, outcome: 'ok' | 'cancelled' | 'timeout' | 'error'): void {
    if (!this.enabled) return;
    this.agentTurns.inc({ provider, outcome });
  }

  countSocketMessage(socket: SocketKind): void {
    if (this.enabled) this.unscrapedSocketMessages[socket]++;
  }

  countInvalidSocketMessage(socket: SocketKind): void {
    if (!this.enabled) return;
    this.socketInvalid.inc({ socket });
  }

  countStoreError(store: StoreName): void {
    if (!this.enabled) return;
    this.storeErrors.inc({ store });
  }

  /**
   * Counts what a transcript write says happened: agent turns with their stage timings, barge-ins
   * (with the reaction time when the event carries one), missed turns, fillers, calls answered and
   * ended. Every write is made once per webhook or socket event (retried webhooks are answered
   * from the reply cache before anything is written), so each turn is counted once.
   */
  observeCallWrite(batch: CallWriteBatch): void {
    if (!this.enabled) return;
    const mode = batch.call?.mode ?? 'gather';
    for (const turn of batch.turns ?? []) if (turn.speaker === 'agent' && turn.timings) this.observeTurn(mode, turn.timings);
    for (const event of batch.events ?? []) {
      switch (event.type) {
        case 'barge_in': {
          this.countBargeIn(mode);
          const reactionMs = event.data?.reactionMs;
          if (typeof reactionMs === 'number') this.observeBargeInReaction(mode, reactionMs / 1000);
          break;
        }
        case 'no_input':
        case 'low_confidence':
          this.countMissedTurn(mode, event.type);
          break;
        case 'filler':
          this.countFiller(mode);
          break;
        case 'status':
          // The first webhook of a call records `voice:<status>`; callbacks record `status-…`.
          if (event.dedupeKey.startsWith('voice:')) this.countCallStarted(mode);
          break;
      }
    }
    if (batch.status && TERMINAL.has(batch.status.status)) this.countCallEnded(batch.status.status);
  }

  /**
   * A gauge read when Prometheus scrapes (queue depths, live calls, spool depth). The reader
   * should be cheap or cached: a scrape must not load Redis.
   */
  gauge(name: string, help: string, labelNames: string[], read: GaugeReader): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await read((labels, value) => (labelNames.length ? this.set(labels, value) : this.set(value)));
      },
    });
  }
}
