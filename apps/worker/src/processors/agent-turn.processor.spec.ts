import { describe, expect, it } from '@jest/globals';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AgentProvider, AgentRegistry, AgentTurnRequest } from '#libs/agents';
import type { AppConfig } from '#libs/config';
import type { HeartbeatService } from '#libs/health';
import type { AgentTurnJobData, TurnEvent, TurnEventsPublisher } from '#libs/queues';
import { AgentTurnProcessor } from './agent-turn.processor.js';
import { TurnCancellations } from './turn-cancellations.js';

const BUDGET = 300;

function setup(respond: AgentProvider['respond']) {
  const published: TurnEvent[] = [];
  const calls: { request: AgentTurnRequest; signal: AbortSignal }[] = [];
  const provider: AgentProvider = {
    name: 'fake',
    respond: (request, signal, onToken) => {
      calls.push({ request, signal });
      return respond(request, signal, onToken);
    },
  };
  const agents = { get: () => ({ model: { turnBudgetMs: BUDGET } }) } as unknown as AgentRegistry;
  const events = { publish: async (_sid: string, _step: number, e: TurnEvent) => published.push(e), reply: async () => 0 } as unknown as TurnEventsPublisher;
  const cancellations = new TurnCancellations({} as Redis);
  const processor = new AgentTurnProcessor(provider, agents, {} as AppConfig, { workerId: 'host-1' } as HeartbeatService, events, cancellations);
  return { processor, published, calls, cancellations };
}

function job(receivedAt = Date.now(), attemptsStarted = 1): Job<AgentTurnJobData> {
  const data: AgentTurnJobData = { callSid: 'CA1', step: 1, agentName: 'default', input: { kind: 'speech', text: 'hi' }, history: [], state: {}, receivedAt };
  return { id: 'turn-CA1-1', data, attemptsStarted } as Job<AgentTurnJobData>;
}

const decision = { say: 'Hello.', action: 'say' as const, state: {} };

describe('AgentTurnProcessor', () => {
  it('streams tokens and the result, tagged with the attempt, and passes the deadline to the provider', async () => {
    const { processor, published, calls } = setup(async (_r, _s, onToken) => {
      onToken?.('Hel');
      onToken?.('lo.');
      return decision;
    });
    const receivedAt = Date.now() - 20;
    const result = await processor.process(job(receivedAt, 2));
    expect(result).toMatchObject({ decision, provider: 'fake', worker: 'host-1' });
    expect(calls[0].request.deadline).toBe(receivedAt + BUDGET);
    expect(published.map((e) => e.type)).toEqual(['token', 'token', 'done']);
    expect(published.every((e) => e.attempt === 2)).toBe(true);
  });

  it('does not start a turn whose budget is already spent (a late recovery): unrecoverable, provider untouched', async () => {
    const { processor, published, calls } = setup(async () => decision);
    await expect(processor.process(job(Date.now() - BUDGET))).rejects.toBeInstanceOf(UnrecoverableError);
    expect(calls).toHaveLength(0);
    expect(published).toEqual([expect.objectContaining({ type: 'failed', code: 'budget' })]);
  });

  it('aborts the provider when the budget runs out', async () => {
    const { processor, published } = setup((_r, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    const started = Date.now();
    const error = await processor.process(job()).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/^budget: turn budget of 300 ms exceeded/);
    expect(Date.now() - started).toBeLessThan(BUDGET + 100);
    expect(published.at(-1)).toMatchObject({ type: 'failed', code: 'budget' });
  });

  it('a cancel aborts the running turn at once', async () => {
    const { processor, published, cancellations } = setup((_r, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    const running = processor.process(job()).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 10));
    const t = performance.now();
    cancellations.cancel('turn-CA1-1');
    const error = await running;
    expect(performance.now() - t).toBeLessThan(20);
    expect((error as Error).message).toMatch(/^cancelled/);
    expect(published.at(-1)).toMatchObject({ type: 'failed', code: 'cancelled' });
  });

  it('a cancel that arrived just before the job started still cancels it', async () => {
    const { processor, calls, cancellations } = setup(async (_r, signal) => {
      signal.throwIfAborted();
      return decision;
    });
    cancellations.cancel('turn-CA1-1');
    await expect(processor.process(job())).rejects.toThrow(/^cancelled/);
    expect(calls[0].signal.aborted).toBe(true);
  });

  it('a provider that answers after a cancel still ends cancelled: no answer is returned', async () => {
    const { processor, published, cancellations } = setup(async () => {
      cancellations.cancel('turn-CA1-1');
      return decision;
    });
    await expect(processor.process(job())).rejects.toThrow(/^cancelled/);
    expect(published.some((e) => e.type === 'done')).toBe(false);
  });
});
