import { realtimeInstructions, realtimeTools, realtimeVoice, type AgentAction, type AgentConfig, type AgentDecision, type AgentState, type ToolOutcome } from '#libs/agents';
import type { AppConfig } from '#libs/config';
import type { CallSession } from '#libs/sessions';
import type { ConversationItem, RealtimeAudioInputTurnDetection, SessionUpdateEvent } from 'openai/resources/realtime/realtime';
import type { RealtimeFailure } from './realtime-connection.js';

/**
 * The session of a call: Twilio's μ-law both ways (no transcoding), the model's own turn detection,
 * caller transcription for the transcript, and the agent's voice, instructions and tools.
 */
export function sessionUpdate(config: AppConfig, agent: AgentConfig, session: CallSession): SessionUpdateEvent {
  return {
    type: 'session.update',
    session: {
      type: 'realtime',
      output_modalities: ['audio'],
      instructions: realtimeInstructions(agent, session.agent),
      audio: {
        input: {
          format: { type: 'audio/pcmu' },
          transcription: { model: config.OPENAI_REALTIME_TRANSCRIPTION_MODEL, language: agent.language.slice(0, 2).toLowerCase() },
          turn_detection: turnDetection(config),
        },
        output: { format: { type: 'audio/pcmu' }, voice: realtimeVoice(agent) },
      },
      tools: realtimeTools(agent),
      tool_choice: 'auto',
    },
  };
}

/** The model answers by itself at the end of the caller's turn and stops talking when the caller starts. */
function turnDetection(config: AppConfig): RealtimeAudioInputTurnDetection {
  if (config.OPENAI_REALTIME_TURN_DETECTION === 'semantic_vad') return { type: 'semantic_vad', create_response: true, interrupt_response: true };
  return {
    type: 'server_vad',
    threshold: config.OPENAI_REALTIME_VAD_THRESHOLD,
    prefix_padding_ms: config.OPENAI_REALTIME_VAD_PREFIX_PADDING_MS,
    silence_duration_ms: config.OPENAI_REALTIME_VAD_SILENCE_MS,
    create_response: true,
    interrupt_response: true,
  };
}

/** What was said before a replaced stream, as conversation items for the new model session. */
export function historyItems(session: CallSession): ConversationItem[] {
  return session.history.flatMap((entry): ConversationItem[] => {
    if (entry.role === 'caller') return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: entry.text }] }];
    if (entry.role === 'agent') return [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: entry.text }] }];
    return [];
  });
}

/** What one tool call means for the call, and what the model is told. */
export interface ToolEffect {
  /** The `function_call_output` the model reads. */
  output: string;
  /** The caller is now with this department. */
  department?: string;
  /** The action of the reply that follows (a route). */
  nextTurnAction?: AgentAction;
  /** A transfer or hang-up, carried out once the model has announced it. */
  announce?: AgentDecision;
}

export function toolEffect(outcome: ToolOutcome, state: AgentState): ToolEffect {
  if (outcome.kind === 'result') return { output: outcome.record.result ?? 'done' };
  if (outcome.action === 'route') {
    return { output: `The caller is now with ${outcome.department}. Tell them: "${outcome.say}"`, department: outcome.department, nextTurnAction: 'route' };
  }
  return {
    output: outcome.action === 'transfer' ? 'The caller is being transferred now.' : 'The call is ending now.',
    announce: {
      say: outcome.say, action: outcome.action, intent: outcome.intent, department: outcome.department, transferTo: outcome.transferTo,
      state: { ...state, department: outcome.department ?? state.department },
    },
  };
}

/** A failure in words an operator can act on (the variable to check, the provider's own message). */
export function describeFailure(failure: RealtimeFailure): string {
  switch (failure.kind) {
    case 'refused':
      if (failure.status === 401 || failure.status === 403) return `refused the connection (HTTP ${failure.status}: ${failure.detail || 'unauthorized'}) — check OPENAI_API_KEY`;
      if (failure.status === 429) return `refused the connection (HTTP 429: ${failure.detail || 'rate limited'}) — rate limit or quota`;
      return `refused the connection (HTTP ${failure.status}: ${failure.detail})`;
    case 'unreachable':
      return `is unreachable (${failure.detail}) — check OPENAI_REALTIME_URL`;
    case 'timeout':
      return `stalled (${failure.detail})`;
    case 'closed':
      return `failed mid-call (${failure.detail || `socket closed with code ${failure.code}`})`;
  }
}
