import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { AGENT_PROVIDER, AgentRegistry, TurnBudgetExceededError, TurnCancelledError, abortReason, type AgentProvider } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { HeartbeatService } from '#libs/health';
import { AGENT_TURN_WORKER_OPTIONS, QueueName, TurnEventsPublisher, type AgentTurnJobData, type AgentTurnJobResult, type TurnFailureCode } from '#libs/queues';
import { TurnCancellations } from './turn-cancellations.js';

/** A turn started with less of its budget left than this is not worth starting: the caller has the apology already. */
const MIN_TURN_MS = 250;

/** Runs one agent turn: streams its tokens to the api, ends on cancel or when the budget is spent. */
@Processor(QueueName.AgentTurns, AGENT_TURN_WORKER_OPTIONS)
export class AgentTurnProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AgentTurnProcessor.name);

  constructor(
    @Inject(AGENT_PROVIDER) private readonly provider: AgentProvider,
    private readonly agents: AgentRegistry,
    private readonly config: AppConfig,
    private readonly heartbeat: HeartbeatService,
    private readonly events: TurnEventsPublisher,
    private readonly cancellations: TurnCancellations,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
  }

  async process(job: Job<AgentTurnJobData>): Promise<AgentTurnJobResult> {
    const { callSid, step, receivedAt } = job.data;
    const attempt = job.attemptsStarted;
    const budgetMs = this.agents.get(job.data.agentName).model.turnBudgetMs;
    // The budget counts from the caller's words, so a turn recovered from a dead worker gets what is left.
    const deadline = Math.min(Number.isFinite(receivedAt) ? receivedAt + budgetMs : Infinity, Date.now() + budgetMs);
    if (deadline - Date.now() < MIN_TURN_MS) {
      await this.events.publish(callSid, step, { type: 'failed', message: 'turn budget spent before it started', code: 'budget', attempt });
      throw new UnrecoverableError('turn budget spent before the turn started');
    }

    const controller = this.cancellations.begin(job.id!);
    const budget = setTimeout(() => controller.abort(new TurnBudgetExceededError(budgetMs)), deadline - Date.now());
    const started = performance.now();
    const queuedMs = Math.max(0, Date.now() - job.timestamp);
    let firstTokenAt: number | undefined;
    try {
      const decision = await this.provider.respond({ ...job.data, deadline }, controller.signal, (text) => {
        firstTokenAt ??= performance.now();
        if (!controller.signal.aborted) void this.events.publish(callSid, step, { type: 'token', text, attempt });
      });
      controller.signal.throwIfAborted(); // a provider that finished anyway after a cancel still ends as cancelled
      const providerMs = Math.round(performance.now() - started);
      const result: AgentTurnJobResult = {
        decision,
        provider: this.provider.name,
        providerMs,
        worker: this.heartbeat.workerId,
        // A provider that does not stream gives its whole answer at once: first token = total.
        timings: { queue: queuedMs, model_first_token: firstTokenAt ? Math.round(firstTokenAt - started) : providerMs, model_total: providerMs },
      };
      // Awaited: the tokens and 'done' reach subscribers before the job's completion is visible.
      await this.events.publish(callSid, step, { type: 'done', result, attempt });
      this.logger.debug({ callSid, step, attempt, providerMs: result.providerMs, action: decision.action }, 'agent turn done');
      return result;
    } catch (err) {
      const error = controller.signal.aborted ? abortReason(controller.signal) : (err as Error);
      const code = failureCode(error);
      await this.events.publish(callSid, step, { type: 'failed', message: error.message, code, attempt });
      // The provider already retried what was worth retrying within the budget; another job attempt could only be late.
      throw new UnrecoverableError(`${code}: ${error.message}`);
    } finally {
      clearTimeout(budget);
      this.cancellations.end(job.id!);
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<AgentTurnJobData> | undefined, err: Error): void {
    const level = err.message.startsWith('cancelled') ? 'debug' : 'warn';
    this.logger[level]({ callSid: job?.data.callSid, step: job?.data.step, err: err.message }, 'agent turn failed');
  }

  @OnWorkerEvent('stalled')
  onStalled(jobId: string): void {
    this.logger.warn({ jobId }, 'agent turn stalled (its worker died or froze): handed to another worker');
  }

  /** Lets running turns finish (bounded by their budgets) before Redis closes; boundShutdown caps the wait. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }
}

function failureCode(error: Error): TurnFailureCode {
  if (error instanceof TurnCancelledError) return 'cancelled';
  if (error instanceof TurnBudgetExceededError) return 'budget';
  return 'provider';
}
