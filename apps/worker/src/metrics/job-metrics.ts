import { WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Job } from 'bullmq';
import { AGENT_PROVIDER, type AgentProvider } from '#libs/agents';
import { MetricsService } from '#libs/metrics';
import { QueueName, type TranscriptJobData } from '#libs/queues';

/**
 * Job metrics from the BullMQ workers' own events, so processors stay free of instrumentation:
 * processing time per queue and outcome; for transcript writes, the lag from each turn being
 * spoken to its row committed; for post-call jobs, the disposition stored. `completed` fires
 * once per job on the worker that completed it, so nothing is counted twice across replicas.
 */
@Injectable()
export class JobMetrics implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metrics: MetricsService,
    @Inject(AGENT_PROVIDER) private readonly provider: AgentProvider,
  ) {}

  /** @nestjs/bullmq creates the workers in onModuleInit: they all exist by now. */
  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const host = wrapper.instance as unknown;
      if (!(host instanceof WorkerHost)) continue;
      const worker = host.worker;
      const queue = worker.name;
      worker.on('completed', (job: Job) => {
        this.metrics.observeJob(queue, 'completed', seconds(job.processedOn, job.finishedOn));
        if (queue === QueueName.AgentTurns) this.metrics.countAgentTurn(this.provider.name, 'ok');
        if (queue === QueueName.Transcripts) this.transcriptStored(job as Job<TranscriptJobData>);
        if (queue === QueueName.CallLifecycle) {
          const disposition = (job.returnvalue as { disposition?: unknown } | undefined)?.disposition;
          if (typeof disposition === 'string') this.metrics.countDisposition(disposition);
        }
      });
      worker.on('failed', (job: Job | undefined, err: Error) => {
        if (job) this.metrics.observeJob(queue, 'failed', seconds(job.processedOn, job.finishedOn ?? Date.now()));
        if (queue === QueueName.AgentTurns) this.metrics.countAgentTurn(this.provider.name, turnFailure(err.message));
      });
    }
  }

  private transcriptStored(job: Job<TranscriptJobData>): void {
    const storedAt = job.finishedOn ?? Date.now();
    for (const turn of job.data.turns ?? []) {
      const spokenAt = Date.parse(turn.endedAt ?? turn.startedAt);
      if (Number.isFinite(spokenAt)) this.metrics.observeTranscriptLag((storedAt - spokenAt) / 1000);
    }
  }
}

/** The agent-turn processor fails a turn with `<code>: <message>` (cancelled, budget, provider). */
function turnFailure(message: string): 'cancelled' | 'timeout' | 'error' {
  if (message.startsWith('cancelled')) return 'cancelled';
  if (message.startsWith('budget') || message.startsWith('turn budget')) return 'timeout';
  return 'error';
}

function seconds(from: number | undefined, to: number | undefined): number {
  return from && to ? (to - from) / 1000 : -1;
}
