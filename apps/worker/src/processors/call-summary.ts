import type { Turn } from '#libs/database';

export interface CallOutcome {
  /** `callback_requested`: nobody could take the call and the caller accepted a callback. */
  disposition: 'transferred' | 'resolved' | 'abandoned' | 'unresolved' | 'callback_requested';
  intent?: string;
  summary: string;
}

/** Intents that describe the conversation's mechanics, not why the caller called. */
const NOT_A_TOPIC = new Set(['unclear', 'faq', 'goodbye', 'dtmf', 'callback', 'callback_offered', 'declined', 'more']);

/** A plain extractive summary and disposition from the stored transcript (no model needed). */
export function summarizeCall(status: string, turns: Pick<Turn, 'speaker' | 'text' | 'action' | 'data'>[]): CallOutcome {
  const callerTurns = turns.filter((t) => t.speaker === 'caller');
  const agentTurns = turns.filter((t) => t.speaker === 'agent');
  const intents = agentTurns
    .map((t) => (t.data as { intent?: string } | null)?.intent)
    .filter((i): i is string => Boolean(i) && !NOT_A_TOPIC.has(i!));
  const intent = intents.length ? intents[intents.length - 1] : agentTurns.some((t) => (t.data as { intent?: string } | null)?.intent === 'faq') ? 'faq' : undefined;
  const transferred = agentTurns.some((t) => t.action === 'transfer');
  const hungUp = agentTurns.some((t) => t.action === 'hangup' && (t.data as { intent?: string } | null)?.intent === 'goodbye');
  const saidIntent = (name: string) => agentTurns.some((t) => (t.data as { intent?: string } | null)?.intent === name);
  // A person was asked for and nobody could take the call: never "resolved".
  const callbackBooked = saidIntent('callback');
  const callbackOffered = saidIntent('callback_offered');

  const disposition: CallOutcome['disposition'] = transferred
    ? 'transferred'
    : status === 'abandoned' || callerTurns.length === 0
      ? 'abandoned'
      : callbackBooked
        ? 'callback_requested'
        : callbackOffered
          ? 'unresolved'
          : hungUp || intent
            ? 'resolved'
            : 'unresolved';

  const first = callerTurns[0]?.text;
  const parts = [
    first ? `Caller said: "${first.slice(0, 200)}".` : 'Caller said nothing usable.',
    intent ? `Intent: ${intent}.` : undefined,
    `${callerTurns.length} caller turn(s), ${agentTurns.length} agent turn(s).`,
    transferred ? 'Transferred to a person or department.' : undefined,
    callbackBooked ? 'Callback requested: nobody was available to take the call.' : callbackOffered ? 'Asked for a person; nobody was available and no callback was booked.' : undefined,
    `Ended: ${status}.`,
  ];
  return { disposition, intent, summary: parts.filter(Boolean).join(' ') };
}
