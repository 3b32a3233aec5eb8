import { Injectable } from '@nestjs/common';
import type { CallEventRecord, CallStartRecord, CallStatusRecord, TurnRecord } from '#libs/database';
import { JobIds } from '#libs/queues';
import { SECURE_DIGITS } from '#libs/redaction';
import type { CallSession } from '#libs/sessions';
import { TranscriptWriter } from '#libs/transcripts';

type NewTurn = Omit<TurnRecord, 'callSid' | 'seq' | 'startedAt'> & { startedAt?: string };

/**
 * Collects what one webhook adds to a call's transcript (turns numbered from the session's
 * counter, events, status) and hands it to the durable writer in a single keyed write.
 */
export class CallWrite {
  readonly turns: TurnRecord[] = [];
  readonly events: CallEventRecord[] = [];
  status?: CallStatusRecord;

  constructor(private readonly session: CallSession) {}

  /** The agent's last question collects sensitive keypad input (see AgentState.secure). */
  private get secure(): boolean {
    return this.session.agent?.secure === true;
  }

  turn(turn: NewTurn): TurnRecord {
    // Keypad input during a secure step of the agent (a card number by keypad): never stored.
    if (this.secure && turn.action === 'dtmf') turn = { ...turn, text: SECURE_DIGITS, data: { secure: true } };
    const record: TurnRecord = {
      ...turn,
      callSid: this.session.callSid,
      seq: ++this.session.seq,
      startedAt: turn.startedAt ?? new Date().toISOString(),
    };
    this.turns.push(record);
    return record;
  }

  /** A tool the agent used, readable in the transcript: `name({args}) → result`. */
  tool(tool: { name: string; args: Record<string, unknown>; result?: string }): TurnRecord {
    const call = `${tool.name}(${JSON.stringify(tool.args)})`;
    return this.turn({ speaker: 'tool', text: tool.result ? `${call} → ${tool.result}` : call, action: tool.name, data: { args: tool.args } });
  }

  event(type: string, dedupeKey: string, data?: Record<string, unknown>): void {
    if (this.secure && type === 'dtmf') data = { secure: true };
    this.events.push({ callSid: this.session.callSid, type, dedupeKey, data, at: new Date().toISOString() });
  }
}

export function callRecord(session: CallSession): CallStartRecord {
  return {
    callSid: session.callSid,
    accountSid: session.accountSid,
    direction: session.direction,
    fromNumber: session.from,
    toNumber: session.to,
    mode: session.mode,
    agentName: session.agentName,
    startedAt: session.startedAt,
  };
}

@Injectable()
export class CallRecorder {
  constructor(private readonly writer: TranscriptWriter) {}

  begin(session: CallSession): CallWrite {
    return new CallWrite(session);
  }

  /** `key` names this write within the call (for example the step it answers). */
  async commit(session: CallSession, key: string, write: CallWrite): Promise<void> {
    await this.writer.write(JobIds.transcript(session.callSid, key), {
      call: callRecord(session),
      turns: write.turns,
      events: write.events,
      status: write.status,
    });
  }
}
