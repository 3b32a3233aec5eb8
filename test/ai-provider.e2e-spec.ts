import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  createOpenAiAgent, ModelError, ModelProtocolError, readAgentsFile, TurnBudgetExceededError, TurnCancelledError,
  type AgentConfig, type AgentTurnRequest, type OpenAiAgent,
} from '#libs/agents';
import { FakeOpenAi } from './support/fake-openai.js';
import { ConfigError } from '#libs/config';
import { testConfig } from './support/harness.js';

// The real provider and the official openai client, against a real local HTTP server.
const fake = new FakeOpenAi();
const base = readAgentsFile('config/agents.json')[0];
let streaming: OpenAiAgent;
let plain: OpenAiAgent;

function agentFor(overrides: Partial<AgentConfig> = {}) {
  return (): AgentConfig => ({ ...base, ...overrides });
}

function provider(stream: boolean, agent = agentFor()): OpenAiAgent {
  const config = testConfig({
    AI_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.url(),
    OPENAI_MODEL: 'fake-model',
    OPENAI_STREAM: String(stream),
    HUMAN_TRANSFER_NUMBER: '+15005550009',
  });
  return createOpenAiAgent(config, agent);
}

function turn(text: string, extra: Partial<AgentTurnRequest> = {}): AgentTurnRequest {
  return {
    callSid: 'CA' + 'a'.repeat(32),
    agentName: 'default',
    input: { kind: 'speech', text, confidence: 0.9 },
    history: [{ role: 'agent', text: base.greeting }],
    state: {},
    ...extra,
  };
}

const live = () => new AbortController().signal;

beforeAll(async () => {
  await fake.start();
  streaming = provider(true);
  plain = provider(false);
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => fake.reset());

describe('openai provider: answers', () => {
  it('plain answer: one JSON completion, the agent persona and tools in the request', async () => {
    fake.then({ kind: 'text', text: 'We are open from eight to six.' });
    const tokens: string[] = [];
    const decision = await plain.respond(turn('When are you open?'), live(), (t) => tokens.push(t));
    expect(decision).toMatchObject({ say: 'We are open from eight to six.', action: 'say' });
    expect(tokens).toEqual(['We are open from eight to six.']);
    const [request] = fake.requests;
    expect(request.body).toMatchObject({ model: 'fake-model', max_tokens: 300, temperature: 0.3, tool_choice: 'auto' });
    expect(request.body.stream).toBeFalsy();
    expect(request.body.messages?.[0]).toMatchObject({ role: 'system' });
    expect(request.body.messages?.[0].content).toContain('receptionist of Acme Utilities');
    expect(request.body.messages?.slice(1)).toEqual([
      { role: 'assistant', content: base.greeting },
      { role: 'user', content: 'When are you open?' },
    ]);
    expect(request.body.tools?.map((t) => t.function.name)).toEqual(['transfer_call', 'end_call', 'route_department', 'lookup_faq']);
    expect(request.authorization).toBe('Bearer no-key');
  });

  it('streamed answer: tokens reach onToken in order while the model is still writing', async () => {
    const text = 'Sure. Our office is at 100 Main Street, Springfield.';
    fake.then({ kind: 'text', text, chunkSize: 5, chunkDelayMs: 15 });
    const arrivals: { text: string; at: number }[] = [];
    const decision = await streaming.respond(turn('Where are you?'), live(), (t) => arrivals.push({ text: t, at: Date.now() }));
    const finished = Date.now();
    expect(fake.requests[0].body.stream).toBe(true);
    expect(decision.say).toBe(text);
    expect(arrivals.map((a) => a.text).join('')).toBe(text);
    expect(arrivals.length).toBeGreaterThan(5);
    // The first words were available long before the answer was complete.
    expect(finished - arrivals[0].at).toBeGreaterThan(100);
  });

  it('dtmf input is described to the model, and long history is bounded', async () => {
    fake.then({ kind: 'text', text: 'Billing it is.' });
    const history = Array.from({ length: 60 }, (_, i) => ({ role: i % 2 ? ('agent' as const) : ('caller' as const), text: 'x'.repeat(5000) }));
    await streaming.respond(turn('1', { input: { kind: 'dtmf', text: '1' }, history, state: { summary: 'caller asked about a bill' } }), live());
    const messages = fake.requests[0].body.messages!;
    expect(messages.length).toBe(1 + 24 + 1);
    expect(messages.every((m) => (m.content ?? '').length <= 3000)).toBe(true);
    expect(messages.at(-1)?.content).toBe('(The caller pressed 1 on the keypad.)');
    expect(messages[0].content).toContain('Earlier in this call: caller asked about a bill');
  });
});

describe('openai provider: tools', () => {
  it.each([true, false])('a route_department call becomes a route action (stream=%s)', async (stream) => {
    fake.then({ kind: 'tools', calls: [{ name: 'route_department', arguments: { department: 'billing' } }] });
    const decision = await (stream ? streaming : plain).respond(turn('It is about my invoice'), live());
    expect(decision).toMatchObject({ action: 'route', department: 'billing', intent: 'billing', state: { department: 'billing' } });
    expect(decision.say).toBe(base.departments[0].welcome);
    expect(decision.tools).toEqual([{ name: 'route_department', args: { department: 'billing' } }]);
    expect(fake.requests).toHaveLength(1);
  });

  it('transfer_call dials the human transfer number, keeping the words the model said first', async () => {
    fake.then({ kind: 'tools', text: 'Of course, one moment.', calls: [{ name: 'transfer_call', arguments: { target: 'human', reason: 'asked' } }] });
    const decision = await streaming.respond(turn('Let me speak to a person'), live());
    expect(decision).toMatchObject({ action: 'transfer', transferTo: '+15005550009', intent: 'human', say: 'Of course, one moment.' });
  });

  it('end_call says goodbye and hangs up', async () => {
    fake.then({ kind: 'tools', calls: [{ name: 'end_call', arguments: {} }] });
    const decision = await plain.respond(turn("That's all, bye"), live());
    expect(decision).toMatchObject({ action: 'hangup', intent: 'goodbye', say: 'Thank you for calling. Goodbye!' });
  });

  it('parallel lookup_faq calls: both results go back to the model, which then answers', async () => {
    fake.then(
      {
        kind: 'tools',
        calls: [
          { name: 'lookup_faq', arguments: { question: 'opening hours' } },
          { name: 'lookup_faq', arguments: { question: 'office address' } },
        ],
      },
      { kind: 'text', text: "We're open weekdays 8 to 6, at 100 Main Street." },
    );
    const decision = await streaming.respond(turn('When are you open and where are you?'), live());
    expect(decision).toMatchObject({ action: 'say', intent: 'faq', say: "We're open weekdays 8 to 6, at 100 Main Street." });
    expect(decision.tools?.map((t) => t.name)).toEqual(['lookup_faq', 'lookup_faq']);
    expect(decision.tools?.[0].result).toMatch(/Monday to Friday/);
    expect(decision.tools?.[1].result).toMatch(/100 Main Street/);

    const second = fake.requests[1].body.messages!;
    const assistant = second.at(-3)!;
    expect(assistant.role).toBe('assistant');
    expect(assistant.tool_calls).toHaveLength(2);
    const ids = (assistant.tool_calls as { id: string }[]).map((c) => c.id);
    expect(second.slice(-2).map((m) => [m.role, m.tool_call_id])).toEqual([['tool', ids[0]], ['tool', ids[1]]]);
    expect(second.at(-2)!.content).toMatch(/Monday to Friday/);
  });

  it('parallel action calls: the strongest action wins (transfer over route over hangup)', async () => {
    fake.then({
      kind: 'tools',
      calls: [
        { name: 'end_call', arguments: {} },
        { name: 'route_department', arguments: { department: 'sales' } },
        { name: 'transfer_call', arguments: { target: 'human' } },
      ],
    });
    const decision = await plain.respond(turn('sales or a person, whatever'), live());
    expect(decision.action).toBe('transfer');
    expect(decision.tools?.map((t) => t.name)).toEqual(['end_call', 'route_department', 'transfer_call']);
  });

  it('invalid tool arguments and unknown tools become error results, never actions', async () => {
    fake.then(
      {
        kind: 'tools',
        calls: [
          { name: 'route_department', arguments: { department: 'root-shell' } },
          { name: 'delete_all_calls', arguments: {} },
          { name: 'transfer_call', arguments: '{"target": "human"' },
        ],
      },
      { kind: 'text', text: 'Which department would you like?' },
    );
    const decision = await streaming.respond(turn('route me somewhere'), live());
    expect(decision).toMatchObject({ action: 'say', say: 'Which department would you like?' });
    const results = fake.requests[1].body.messages!.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(results).toEqual([
      expect.stringMatching(/^error: invalid arguments/),
      'error: unknown tool delete_all_calls',
      'error: arguments are not valid JSON',
    ]);
  });

  it('oversized tool arguments are refused as a protocol error', async () => {
    fake.then({ kind: 'tools', calls: [{ name: 'lookup_faq', arguments: { question: 'x'.repeat(5000) } }] });
    await expect(streaming.respond(turn('hours?'), live())).rejects.toBeInstanceOf(ModelProtocolError);
    expect(fake.requests).toHaveLength(1);
  });

  it('model text is made speakable: markdown and control characters removed, markup kept for the TwiML escaper', async () => {
    fake.then({ kind: 'text', text: '**Sure!**\u0007 Call <b>us</b> & ask.' });
    const decision = await plain.respond(turn('hi'), live());
    expect(decision.say).toBe('Sure! Call <b>us</b> & ask.');
  });
});

describe('openai provider: failures and retries', () => {
  it('429 then success: waits at least retry-after-ms and retries once', async () => {
    fake.then({ kind: 'error', status: 429, headers: { 'retry-after-ms': '120' } }, { kind: 'text', text: 'Here I am.' });
    const started = Date.now();
    const decision = await streaming.respond(turn('hello'), live());
    expect(decision.say).toBe('Here I am.');
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1].receivedAt - fake.requests[0].receivedAt).toBeGreaterThanOrEqual(115);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('5xx twice then success, with growing jittered backoff', async () => {
    fake.then({ kind: 'error', status: 500 }, { kind: 'error', status: 503 }, { kind: 'text', text: 'Third time lucky.' });
    const decision = await plain.respond(turn('hello'), live());
    expect(decision.say).toBe('Third time lucky.');
    expect(fake.requests).toHaveLength(3);
    const gaps = [fake.requests[1].receivedAt - fake.requests[0].receivedAt, fake.requests[2].receivedAt - fake.requests[1].receivedAt];
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[1]).toBeGreaterThanOrEqual(195);
  });

  it('a 400 is not retried', async () => {
    fake.then({ kind: 'error', status: 400, message: 'bad tool schema' });
    const error = await streaming.respond(turn('hello'), live()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).status).toBe(400);
    expect(fake.requests).toHaveLength(1);
  });

  it('a retry-after beyond the turn budget fails at once instead of waiting', async () => {
    fake.then({ kind: 'error', status: 429, headers: { 'retry-after': '30' } });
    const started = Date.now();
    await expect(streaming.respond(turn('hello'), live())).rejects.toMatchObject({ status: 429 });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('timeout: a model that never answers is aborted when the turn budget runs out', async () => {
    fake.then({ kind: 'hang' });
    const started = Date.now();
    const error = await streaming.respond(turn('hello', { deadline: Date.now() + 800 }), live()).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(TurnBudgetExceededError);
    expect(elapsed).toBeGreaterThanOrEqual(780);
    expect(elapsed).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.requests[0].aborted).toBe(true);
  });

  it.each([true, false])('malformed JSON once, then a good answer (stream=%s)', async (stream) => {
    fake.then({ kind: 'malformed' }, { kind: 'text', text: 'Recovered.' });
    const decision = await (stream ? streaming : plain).respond(turn('hello'), live());
    expect(decision.say).toBe('Recovered.');
    expect(fake.requests).toHaveLength(2);
  });

  it('malformed JSON every time ends as a protocol error within the budget', async () => {
    fake.responder = () => ({ kind: 'malformed' });
    const error = await plain.respond(turn('hello', { deadline: Date.now() + 3000 }), live()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelProtocolError);
    expect(fake.requests.length).toBeGreaterThanOrEqual(2);
    expect(fake.requests.length).toBeLessThanOrEqual(4);
  });

  it('a stream cut mid-answer keeps the complete sentences already streamed, without a retry', async () => {
    fake.then({ kind: 'cut', text: 'You can pay by card. Or by direct debit if you', afterChars: 32, how: 'destroy' });
    const tokens: string[] = [];
    const decision = await streaming.respond(turn('how can I pay?'), live(), (t) => tokens.push(t));
    expect(decision).toMatchObject({ say: 'You can pay by card.', truncated: true, action: 'say' });
    expect(tokens.join('')).toBe('You can pay by card. Or by direc');
    expect(fake.requests).toHaveLength(1);
  });

  it('a stream cut before any text is retried', async () => {
    fake.then({ kind: 'cut', text: '', afterChars: 0, how: 'end' }, { kind: 'text', text: 'Second try.' });
    const decision = await streaming.respond(turn('hello'), live());
    expect(decision.say).toBe('Second try.');
    expect(decision.truncated).toBeUndefined();
    expect(fake.requests).toHaveLength(2);
  });

  it('a stream cut inside the first sentence fails (nothing whole to say)', async () => {
    fake.then({ kind: 'cut', text: 'Your balance is forty dollars.', afterChars: 12, how: 'end' });
    await expect(streaming.respond(turn('balance?'), live())).rejects.toMatchObject({ name: 'ModelStreamCutError' });
    expect(fake.requests).toHaveLength(1);
  });

  it('cancellation: the HTTP request is aborted as soon as the signal aborts', async () => {
    fake.then({ kind: 'hang' });
    const controller = new AbortController();
    const pending = streaming.respond(turn('hello'), controller.signal).catch((e: unknown) => e);
    const deadline = Date.now() + 2000;
    while (fake.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const abortedAt = Date.now();
    controller.abort(new TurnCancelledError());
    expect(await pending).toBeInstanceOf(TurnCancelledError);
    while (fake.requests[0].closedAt === undefined && Date.now() < abortedAt + 1000) await new Promise((r) => setTimeout(r, 2));
    expect(fake.requests[0].aborted).toBe(true);
    // Cold code paths in Jest's VM make this first abort slower than in a worker process
    // (≈ 1 ms there; the 100 ms promise is asserted against real workers in the worker-pool spec).
    expect(fake.requests[0].closedAt! - abortedAt).toBeLessThan(250);
  });

  it('cancellation during a retry backoff stops at once', async () => {
    fake.then({ kind: 'error', status: 429, headers: { 'retry-after-ms': '3000' } });
    const controller = new AbortController();
    const pending = streaming.respond(turn('hello'), controller.signal).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    controller.abort(new TurnCancelledError());
    expect(await pending).toBeInstanceOf(TurnCancelledError);
    expect(Date.now() - started).toBeLessThan(50);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('configuration', () => {
  it.each([
    [{ OPENAI_MODEL: 'm' }, 'OPENAI_BASE_URL is required'],
    [{ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }, 'OPENAI_MODEL is required'],
    [{ OPENAI_BASE_URL: 'https://api.openai.com/v1', OPENAI_MODEL: 'gpt-4o-mini' }, 'OPENAI_API_KEY is required'],
  ])('AI_PROVIDER=openai with %j fails at start: %s', (vars, message) => {
    expect(() => testConfig({ AI_PROVIDER: 'openai', OPENAI_BASE_URL: '', OPENAI_MODEL: '', OPENAI_API_KEY: '', ...vars })).toThrow(ConfigError);
    expect(() => testConfig({ AI_PROVIDER: 'openai', OPENAI_BASE_URL: '', OPENAI_MODEL: '', OPENAI_API_KEY: '', ...vars })).toThrow(message);
  });

  it('a local server needs no key', () => {
    const config = testConfig({ AI_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', OPENAI_MODEL: 'llama3.2' });
    expect(config).toMatchObject({ AI_PROVIDER: 'openai', OPENAI_STREAM: true });
  });
});
