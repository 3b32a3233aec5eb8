import type { AgentAction, AgentDecision } from '#libs/agents';
import { appendHistory, type CallSession } from '#libs/sessions';
import type { StreamSocket } from '../stream-socket.js';
import { heardPrefix } from './heard-text.js';
import type { TurnLedger } from './turn-ledger.js';

/** After an answer's last audio went out, how long to wait for its mark beyond what is still unplayed. */
const MARK_GRACE_MS = 3000;
/** Audio between two marks of one answer: the precision of "what was played", and a bound on marks per second. */
const MARK_EVERY_MS = 100;
/** Typical speaking rate of the model's voices (about 15 characters a second). */
const SPEECH_MS_PER_CHAR = 65;
/** Longest text kept per agent item (a runaway answer cannot grow a turn without bound). */
export const MAX_TRANSCRIPT_CHARS = 4000;
const MARK = /^r(\d+)\.(\d+)\.(\d+|end)$/;

export type Purpose = 'greeting' | 'reply' | 'action';

/** One response of the model. */
export interface ModelResponse {
  id: string;
  purpose: Purpose;
  cancelled: boolean;
  functionCalls: number;
  audioItems: number;
}

/** One assistant message of the model, as it is sent to Twilio and played. */
export interface SpokenItem {
  /** Local number, used in mark names (short, and never the model's id). */
  index: number;
  itemId: string;
  response?: ModelResponse;
  purpose: Purpose;
  sentMs: number;
  playedMs: number;
  /** Audio position of the last mark sent. */
  markedMs: number;
  transcript: string;
  audioDone: boolean;
  /** The response ended before this item's audio did (cancelled, incomplete): only what was sent can be heard. */
  cut: boolean;
  settled: boolean;
  latencyMs?: number;
  /** The action this item announces (transfer, hang-up), carried out once it has played. */
  action?: AgentDecision;
  /** For the stored turn: what the answer did (route …). */
  turnAction?: AgentAction | 'greeting' | 'apology';
  graceTimer?: NodeJS.Timeout;
}

/**
 * What the caller hears of the model's answers. Each item's audio goes to Twilio as it arrives,
 * followed every 100 ms of audio by a mark `r<generation>.<item>.<ms>` (and `…end` after its last
 * delta); Twilio echoes a mark once the audio before it has played, so the echoes say how much of
 * every answer the caller heard. An item is settled — stored as an agent turn, cut to what was
 * heard if it was interrupted — when its end mark comes back, when it is stopped, or when the
 * call ends. A barge-in is `clear` to Twilio first, then `cut`: each unplayed item is cut at its
 * played position.
 */
export class Playback {
  private readonly items = new Map<string, SpokenItem>();
  private readonly byIndex = new Map<number, SpokenItem>();
  /** Bumped at every `clear`: marks pending at it come back stale and are ignored. */
  private generation = 0;
  private counter = 0;

  constructor(
    private readonly socket: StreamSocket,
    private readonly ledger: TurnLedger,
    private readonly session: CallSession,
    /** An item that announced an action has played in full. */
    private readonly played: (action: AgentDecision) => void,
  ) {}

  get(itemId: string | undefined): SpokenItem | undefined {
    return itemId === undefined ? undefined : this.items.get(itemId);
  }

  /** Whether any answer is still being sent or played. */
  get speaking(): boolean {
    for (const item of this.items.values()) if (!item.settled) return true;
    return false;
  }

  /** A new assistant message; it takes its place in the transcript now. */
  add(itemId: string, response: ModelResponse | undefined, action: AgentDecision | undefined, turnAction: SpokenItem['turnAction']): SpokenItem {
    const item: SpokenItem = {
      index: ++this.counter, itemId, response, purpose: response?.purpose ?? 'reply', sentMs: 0, playedMs: 0, markedMs: 0, transcript: '',
      audioDone: false, cut: false, settled: false, action, turnAction,
    };
    if (response) response.audioItems++;
    this.items.set(itemId, item);
    this.byIndex.set(item.index, item);
    this.ledger.open('agent', itemId);
    return item;
  }

  /** One delta of μ-law (base64, `bytes` long) to Twilio as it is, with a mark every 100 ms of audio. */
  send(item: SpokenItem, base64: string, bytes: number): void {
    this.socket.sendPayload(base64);
    item.sentMs += bytes / 8;
    // Small deltas share a mark: marks are the only truth about playback, but one per 100 ms is plenty.
    if (item.sentMs - item.markedMs >= MARK_EVERY_MS) {
      item.markedMs = item.sentMs;
      this.socket.sendMark(`r${this.generation}.${item.index}.${Math.floor(item.sentMs)}`);
    }
  }

  /** The item's last audio went out: its end mark settles it once played. */
  audioDone(item: SpokenItem): void {
    item.audioDone = true;
    this.socket.sendMark(`r${this.generation}.${item.index}.end`);
    // A lost mark must not leave the answer unsettled (and its action undone) for ever.
    item.graceTimer = setTimeout(() => this.settle(item, false), Math.max(0, item.sentMs - item.playedMs) + MARK_GRACE_MS);
  }

  /** Twilio echoed a mark. */
  onMark(name: string): void {
    const match = MARK.exec(name);
    if (!match || Number(match[1]) !== this.generation) return; // stale (cleared) or not ours
    const item = this.byIndex.get(Number(match[2]));
    if (!item || item.settled) return;
    if (match[3] === 'end') {
      item.playedMs = item.sentMs;
      this.settle(item, false);
    } else {
      item.playedMs = Math.max(item.playedMs, Number(match[3]));
    }
  }

  /**
   * A response ended (done, cancelled, incomplete): its items whose audio stopped with it play out
   * what was sent, and those that never sent audio never existed.
   */
  responseEnded(response: ModelResponse): void {
    for (const item of [...this.items.values()]) {
      if (item.response !== response || item.audioDone || item.settled) continue;
      if (item.sentMs === 0) {
        this.forget(item);
        this.ledger.skip(item.itemId, 'no audio');
        continue;
      }
      item.cut = true;
      this.audioDone(item);
    }
  }

  /** Empties Twilio's playback buffer at once; marks still pending come back stale. */
  clear(): void {
    this.socket.sendClear();
    this.generation++;
  }

  /**
   * Settles every unplayed item as interrupted, cut at the audio the marks say was played
   * (`truncate` tells the model the same). Returns the heard milliseconds of each.
   */
  cut(truncate?: (itemId: string, heardMs: number) => void): number[] {
    const unplayed = [...this.items.values()].filter((i) => !i.settled);
    return unplayed.map((item) => {
      const heard = Math.floor(Math.min(item.sentMs, item.playedMs));
      truncate?.(item.itemId, heard);
      this.settle(item, true);
      return heard;
    });
  }

  /** Whatever plays stops (`clear`) and is stored as heard so far. */
  stop(): void {
    if (!this.speaking) return;
    this.clear();
    this.cut();
  }

  /** The call ended: every item is stored with what was heard of it; no mark counts any more. */
  close(): void {
    this.generation++;
    for (const item of this.items.values()) this.settle(item, item.sentMs > item.playedMs || !item.audioDone);
  }

  /** Stores the item (cut to what was heard when interrupted) and carries out what it announced. */
  private settle(item: SpokenItem, interrupted: boolean): void {
    if (item.settled) return;
    item.settled = true;
    clearTimeout(item.graceTimer);
    this.forget(item);
    const planned = item.transcript.trim();
    // While the answer is still being produced its transcript runs ahead of the audio sent so far:
    // measure the share heard against the whole answer's likely length then.
    const totalMs = item.audioDone ? item.sentMs : Math.max(item.sentMs, planned.length * SPEECH_MS_PER_CHAR);
    const text = interrupted ? heardPrefix(planned, item.playedMs, totalMs) : item.cut ? heardPrefix(planned, item.sentMs, Math.max(item.sentMs, planned.length * SPEECH_MS_PER_CHAR)) : planned;
    interrupted ||= item.cut && text !== planned;
    if (!text && !interrupted) {
      this.ledger.skip(item.itemId, 'nothing said');
    } else {
      this.ledger.fill('agent', item.itemId, (write) => {
        write.turn({
          speaker: 'agent',
          text,
          interrupted: interrupted || undefined,
          latencyMs: item.latencyMs,
          action: item.turnAction ?? item.action?.action,
          data: { engine: 'realtime', heardMs: Math.floor(Math.min(item.playedMs, item.sentMs)), sentMs: Math.floor(item.sentMs), planned: interrupted ? planned : undefined },
        });
        if (text) appendHistory(this.session, { role: 'agent', text });
      });
    }
    if (!interrupted && item.action) this.played(item.action);
  }

  private forget(item: SpokenItem): void {
    this.items.delete(item.itemId);
    this.byIndex.delete(item.index);
  }
}
