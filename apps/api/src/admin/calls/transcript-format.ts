import type { Call, Turn } from '#libs/database';
import type { TranscriptDto } from '../dto/call.dto.js';

const LABEL: Record<string, string> = { caller: 'Caller', agent: 'Agent', tool: 'Tool', system: 'System' };

function offset(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const mm = String(Math.floor(s / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${mm}:${ss}`;
}

export function transcriptJson(call: Call, turns: Turn[]): TranscriptDto {
  const start = call.startedAt.getTime();
  return {
    callSid: call.callSid,
    erasedAt: call.erasedAt?.toISOString() ?? null,
    lines: turns.map((t) => ({
      seq: t.seq,
      speaker: t.speaker,
      text: t.text,
      at: t.startedAt.toISOString(),
      offsetMs: Math.max(0, t.startedAt.getTime() - start),
      interrupted: t.interrupted,
      ...plannedOf(t),
    })),
  };
}

/** What an interrupted turn meant to say (stored by the media modes beside the heard text). */
function plannedOf(t: Turn): { planned?: string } {
  const planned = t.interrupted ? (t.data as { planned?: unknown } | null)?.planned : undefined;
  return typeof planned === 'string' ? { planned } : {};
}

/** A transcript a person can read: a header, then one `[mm:ss] Speaker: text` line per turn. */
export function transcriptText(call: Call, turns: Turn[]): string {
  const header = [
    `Call ${call.callSid} (${call.direction}, ${call.mode}, agent ${call.agentName})`,
    `Started ${call.startedAt.toISOString()}, status ${call.status}${call.durationSec != null ? `, ${call.durationSec} s` : ''}`,
  ];
  if (call.erasedAt) return [...header, '', `Transcript erased at ${call.erasedAt.toISOString()}.`, ''].join('\n');
  const start = call.startedAt.getTime();
  const lines = turns.map((t) => {
    // One turn, one line: a newline inside recognised speech must not fake another speaker's line.
    const text = t.text.replace(/\s*[\r\n]+\s*/g, ' ');
    return `[${offset(t.startedAt.getTime() - start)}] ${LABEL[t.speaker] ?? t.speaker}: ${text}${t.interrupted ? ' [interrupted]' : ''}`;
  });
  return [...header, '', ...(lines.length ? lines : ['(no turns)']), ''].join('\n');
}
