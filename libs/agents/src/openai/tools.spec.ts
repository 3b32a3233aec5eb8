import { describe, expect, it } from '@jest/globals';
import type { AgentConfig } from '../agent-config.js';
import { runTool, strongestAction, toolDefinitions } from './tools.js';

const agent = {
  name: 'default',
  persona: 'p',
  greeting: 'hi',
  voice: 'v',
  language: 'en-US',
  model: { maxTokens: 100, temperature: 0, turnBudgetMs: 8000 },
  tools: ['transfer_call', 'end_call', 'route_department', 'lookup_faq'],
  departments: [
    { name: 'billing', description: 'bills', keywords: ['bill'], welcome: 'Billing here.' },
    { name: 'sales', description: 'plans', keywords: ['plan'], welcome: 'Sales here.', number: '+15005550100' },
  ],
  faq: [{ question: 'Hours?', keywords: ['hours', 'open'], answer: 'Nine to five.' }],
} satisfies AgentConfig;

const call = (name: string, args: unknown) => ({ id: 'c1', name, arguments: typeof args === 'string' ? args : JSON.stringify(args) });

describe('toolDefinitions', () => {
  it('offers only the agent tools, with its departments as the enum', () => {
    const defs = toolDefinitions({ ...agent, tools: ['route_department'] });
    expect(defs).toHaveLength(1);
    expect(defs[0].function.parameters).toMatchObject({ properties: { department: { enum: ['billing', 'sales'] } } });
  });
});

describe('runTool', () => {
  it('routes, or transfers to a department that has a number', () => {
    expect(runTool(call('route_department', { department: 'billing' }), { agent })).toMatchObject({ kind: 'action', action: 'route', say: 'Billing here.' });
    expect(runTool(call('route_department', { department: 'sales' }), { agent })).toMatchObject({ kind: 'action', action: 'transfer', transferTo: '+15005550100' });
  });

  it('a transfer to a department without its own line routes there instead', () => {
    expect(runTool(call('transfer_call', { target: 'billing' }), { agent })).toMatchObject({ kind: 'action', action: 'route', department: 'billing' });
    expect(runTool(call('transfer_call', { target: 'sales' }), { agent })).toMatchObject({ action: 'transfer', transferTo: '+15005550100' });
  });

  it('transfers to a person only when a number is configured', () => {
    expect(runTool(call('transfer_call', { target: 'human' }), { agent, transferTo: '+15005550009' })).toMatchObject({ action: 'transfer', transferTo: '+15005550009' });
    expect(runTool(call('transfer_call', {}), { agent })).toMatchObject({ kind: 'result', record: { result: expect.stringMatching(/No one is available/) } });
  });

  it('answers lookup_faq from the agent FAQ', () => {
    expect(runTool(call('lookup_faq', { question: 'when are you open' }), { agent })).toMatchObject({ kind: 'result', record: { result: 'Nine to five.' } });
    expect(runTool(call('lookup_faq', { question: 'weather' }), { agent })).toMatchObject({ record: { result: 'No FAQ entry matches this question.' } });
  });

  it.each([
    ['route_department', { department: 'admin' }],
    ['route_department', {}],
    ['lookup_faq', { question: 'x'.repeat(501) }],
    ['lookup_faq', '{"question": '],
    ['end_call', { reason: 'y'.repeat(301) }],
    ['format_disk', {}],
  ])('%s with %j is an error result, not an action', (name, args) => {
    const outcome = runTool(call(name, args), { agent });
    expect(outcome.kind).toBe('result');
    expect(outcome.record.result).toMatch(/^error: /);
    expect(outcome.record.name.length).toBeLessThanOrEqual(32);
  });

  it('a tool the agent may not use is refused', () => {
    expect(runTool(call('end_call', {}), { agent: { ...agent, tools: ['lookup_faq'] } }).record.result).toBe('error: unknown tool end_call');
  });

  it('the strongest of parallel actions wins', () => {
    const outcomes = [runTool(call('end_call', {}), { agent }), runTool(call('route_department', { department: 'billing' }), { agent })];
    expect(strongestAction(outcomes)?.action).toBe('route');
  });
});
