import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import type { AgentConfig } from '../agent-config.js';
import type { AgentState } from '../agent.types.js';
import { VOICE_RULES } from './prompt.js';
import { toolDefinitions } from './tools.js';

/** Most characters of the earlier-call summary put in the instructions. */
const MAX_SUMMARY = 1000;

/**
 * Instructions of a speech-to-speech session: the agent's own (or its persona), the same voice
 * rules as the text models, the departments and what the call is already about.
 */
export function realtimeInstructions(agent: AgentConfig, state: AgentState = {}): string {
  const parts = [agent.realtime?.instructions ?? agent.persona, VOICE_RULES, `Speak ${agent.language}.`];
  if (agent.departments.length) parts.push(`Departments: ${agent.departments.map((d) => `${d.name} (${d.description})`).join('; ')}.`);
  if (state.department) parts.push(`The caller is currently with ${state.department}.`);
  if (state.summary) parts.push(`Earlier in this call: ${state.summary.slice(-MAX_SUMMARY)}`);
  return parts.join('\n');
}

/** The model's voice for an agent: its own, else OpenAI's recommended default. */
export function realtimeVoice(agent: AgentConfig): string {
  return agent.realtime?.voice ?? 'marin';
}

/** The agent's tools as Realtime session functions (same names, descriptions and schemas as the text models get). */
export function realtimeTools(agent: AgentConfig): RealtimeFunctionTool[] {
  return toolDefinitions(agent).map(({ function: f }) => ({ type: 'function', name: f.name, description: f.description, parameters: f.parameters }));
}
