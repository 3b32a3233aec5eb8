import type { CallWrite } from '../../twilio/call-recorder.js';

export type SlotKind = 'caller' | 'agent' | 'tool';

/** One turn in conversation order, written once it is known (or given up on). */
interface Slot {
  kind: SlotKind;
  key: string;
  createdAt: number;
  state: 'open' | 'ready' | 'skipped';
  write?: (write: CallWrite) => void;
  skipReason?: string;
}

/** Slots kept at most; a runaway conversation gives up its oldest unfilled ones. */
const MAX_SLOTS = 200;

/**
 * The turns of a speech-to-speech call in the order they happened, each written exactly once.
 * The model's events do not arrive in that order — the caller's transcription usually lands after
 * the agent has started answering — so each turn takes its place when it starts (caller: the
 * committed audio; agent and tool: the model's output item) and is written when it is filled,
 * only once every turn before it is written or given up on.
 */
export class TurnLedger {
  private readonly slots: Slot[] = [];
  private readonly byKey = new Map<string, Slot>();

  constructor(
    /** Writes the ready turns (in order) and the reasons of skipped ones. */
    private readonly flush: (ready: ((write: CallWrite) => void)[], skipped: { kind: SlotKind; key: string; reason: string }[]) => void,
    /** How long a caller turn may hold back later turns waiting for its transcription. */
    private readonly callerWaitMs: number,
  ) {}

  get pending(): number {
    return this.slots.length;
  }

  /** Whether a caller turn is placed but its words are not known yet. */
  awaitsCaller(): boolean {
    return this.slots.some((s) => s.kind === 'caller' && s.state === 'open');
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Reserves the next place in the conversation; a key already placed keeps its place. */
  open(kind: SlotKind, key: string): void {
    if (this.byKey.has(key)) return;
    const slot: Slot = { kind, key, createdAt: Date.now(), state: 'open' };
    this.slots.push(slot);
    this.byKey.set(key, slot);
    if (this.slots.length > MAX_SLOTS) this.giveUp(this.slots.find((s) => s.state === 'open'), 'too many pending turns');
  }

  /** Fills a placed turn (placing it now if it was not); a second fill of the same key is ignored. */
  fill(kind: SlotKind, key: string, write: (write: CallWrite) => void): boolean {
    this.open(kind, key);
    const slot = this.byKey.get(key)!;
    if (slot.state !== 'open') return false;
    slot.state = 'ready';
    slot.write = write;
    this.drain();
    return true;
  }

  /** This turn will not be written (no transcription, nothing said). */
  skip(key: string, reason: string): void {
    this.giveUp(this.byKey.get(key), reason);
  }

  /**
   * Gives up on caller turns whose transcription is overdue while a later turn is ready, so one
   * lost transcription never holds back the rest of the transcript.
   */
  expire(now = Date.now()): void {
    const first = this.slots[0];
    if (!first || first.state !== 'open' || first.kind !== 'caller') return;
    if (now - first.createdAt < this.callerWaitMs || !this.slots.some((s) => s.state === 'ready')) return;
    this.giveUp(first, 'transcription overdue');
  }

  /** The call is over: what is filled is written, what is not is given up on. */
  finish(): void {
    for (const slot of this.slots) if (slot.state === 'open') { slot.state = 'skipped'; slot.skipReason = 'call ended'; }
    this.drain();
  }

  private giveUp(slot: Slot | undefined, reason: string): void {
    if (!slot || slot.state !== 'open') return;
    slot.state = 'skipped';
    slot.skipReason = reason;
    this.drain();
  }

  private drain(): void {
    const ready: ((write: CallWrite) => void)[] = [];
    const skipped: { kind: SlotKind; key: string; reason: string }[] = [];
    while (this.slots.length && this.slots[0].state !== 'open') {
      const slot = this.slots.shift()!;
      // Keys stay known, so a late event for a written or skipped turn cannot write it again.
      if (slot.state === 'ready') ready.push(slot.write!);
      else skipped.push({ kind: slot.kind, key: slot.key, reason: slot.skipReason ?? 'skipped' });
    }
    if (ready.length || skipped.length) this.flush(ready, skipped);
  }
}
