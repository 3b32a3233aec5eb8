import { Inject, Injectable, Logger } from '@nestjs/common';
import { AGENT_PROVIDER, type AgentInput, type AgentProvider, type AgentTurnRequest, type HistoryEntry } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { AgentTurnQueue, TurnEventsSubscriber, type AgentTurnJobResult, type TurnEvent } from '#libs/queues';
import type { CallSession } from '#libs/sessions';

/** What a running turn reports, at most one of `done`/`failed`, never after `cancel()`. */
export interface TurnListener {
  token(text: string): void;
  done(result: AgentTurnJobResult): void;
  failed(reason: string): void;
}

/** One agent turn in flight on the worker. */
export class RunningTurn {
  private settled = false;
  private attempt?: number;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => Promise<void>;
  jobId?: string;

  constructor(
    readonly step: number,
    private readonly queue: AgentTurnQueue,
    private readonly listener: TurnListener,
  ) {}

  get active(): boolean {
    return !this.settled;
  }

  /** @internal */
  bind(unsubscribe: () => Promise<void>, timer: NodeJS.Timeout): void {
    this.unsubscribe = unsubscribe;
    this.timer = timer;
    if (this.settled) this.release();
  }

  /** @internal */
  deliver(event: TurnEvent): void {
    if (this.settled) return;
    if (event.type === 'token') {
      // After stalled-job recovery a second worker streams the turn again from the start: once
      // tokens of one attempt were spoken, a later attempt's tokens would repeat them.
      const attempt = event.attempt ?? 1;
      if (this.attempt !== undefined && attempt !== this.attempt) return;
      this.attempt = attempt;
      return this.listener.token(event.text);
    }
    this.settled = true;
    this.release();
    if (event.type === 'done') this.listener.done(event.result);
    else this.listener.failed(event.message);
  }

  /** Stops listening and asks the worker to abort (the orchestration service's cancel path). */
  cancel(): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    if (this.jobId) void this.queue.cancel(this.jobId);
  }

  /** Gives up on the turn (cancelling it on the worker) and reports `reason` as its failure. */
  abandon(reason: string): void {
    if (this.settled) return;
    this.cancel();
    this.listener.failed(reason);
  }

  private release(): void {
    clearTimeout(this.timer);
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    void unsubscribe?.().catch(() => undefined);
  }
}

/**
 * Runs agent turns for the media modes: subscribe to the turn's token stream first (pub/sub
 * does not replay), then enqueue. Each turn takes the session's next step, so its job id
 * never collides with an earlier turn's (finished jobs are kept for an hour).
 *
 * With AGENT_LOCAL_IN_API and the built-in agent the turn runs here instead, as the gather
 * webhook does: its decision takes microseconds and no I/O, while the trip through Redis and
 * the worker (subscribe, enqueue, pickup, publish) is most of a cloud pipeline's own latency.
 */
@Injectable()
export class AgentTurnRunner {
  private readonly logger = new Logger(AgentTurnRunner.name);

  constructor(
    private readonly config: AppConfig,
    private readonly queue: AgentTurnQueue,
    private readonly events: TurnEventsSubscriber,
    @Inject(AGENT_PROVIDER) private readonly provider: AgentProvider,
  ) {}

  private get inProcess(): boolean {
    return this.config.AGENT_LOCAL_IN_API && this.provider.name === 'local';
  }

  /**
   * `context` replaces the session's history and agent state in the job: a speculative turn is
   * asked with the caller's words appended to a copy, the session itself changes only on commit.
   */
  async start(session: CallSession, input: AgentInput, listener: TurnListener, context?: { history: HistoryEntry[]; state: CallSession['agent'] }): Promise<RunningTurn> {
    const step = session.step++;
    const turn = new RunningTurn(step, this.queue, listener);
    const receivedAt = Date.now();
    const request = { callSid: session.callSid, agentName: session.agentName, input, history: [...(context?.history ?? session.history)], state: context?.state ?? session.agent };
    if (this.inProcess) return this.runHere(turn, request, receivedAt);
    try {
      const unsubscribe = await this.events.subscribe(session.callSid, step, (event) => turn.deliver(event));
      const timer = setTimeout(() => void this.expire(turn), this.config.TURN_CEILING_MS);
      turn.bind(unsubscribe, timer);
      turn.jobId = await this.queue.enqueue({ ...request, step, receivedAt });
    } catch (err) {
      this.logger.error({ callSid: session.callSid, step, err: (err as Error).message }, 'could not start the agent turn');
      turn.deliver({ type: 'failed', message: 'agent turn could not be queued' });
    }
    return turn;
  }

  /** The built-in agent, in this process: same events as from the worker, cancelled by aborting it. */
  private runHere(turn: RunningTurn, request: AgentTurnRequest, receivedAt: number): RunningTurn {
    const controller = new AbortController();
    const ceiling = setTimeout(() => turn.abandon('agent turn exceeded the ceiling'), this.config.TURN_CEILING_MS);
    turn.bind(async () => controller.abort(), ceiling);
    const started = performance.now();
    let firstTokenAt: number | undefined;
    this.provider
      .respond({ ...request, deadline: receivedAt + this.config.TURN_CEILING_MS }, controller.signal, (text) => {
        firstTokenAt ??= performance.now();
        turn.deliver({ type: 'token', text });
      })
      .then(
        (decision) => {
          const total = Math.round(performance.now() - started);
          const timings = { queue: 0, model_first_token: firstTokenAt ? Math.round(firstTokenAt - started) : total, model_total: total };
          turn.deliver({ type: 'done', result: { decision, provider: this.provider.name, providerMs: total, worker: 'api', timings } });
        },
        (err: Error) => {
          if (controller.signal.aborted) return;
          this.logger.error({ callSid: request.callSid, step: turn.step, err: err.message }, 'the built-in agent failed');
          turn.deliver({ type: 'failed', message: err.message });
        },
      );
    return turn;
  }

  /** No `done` arrived in time (a lost pub/sub message, or a stuck worker): ask the queue once, then give up. */
  private async expire(turn: RunningTurn): Promise<void> {
    if (!turn.active || !turn.jobId) return;
    const outcome = await this.queue.waitFor(turn.jobId, 200, { readFirst: true });
    if (outcome.state === 'done') return turn.deliver({ type: 'done', result: outcome.result });
    turn.abandon('agent turn exceeded the ceiling');
  }
}
