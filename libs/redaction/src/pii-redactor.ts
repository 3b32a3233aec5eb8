import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { parsePiiTypes, redactPii, type PiiType, type Redaction } from './pii.js';

/** The fields of a transcript turn redaction reads and writes. */
export interface RedactableTurn {
  speaker: string;
  text: string;
  data?: Record<string, unknown>;
  redactions?: string[];
}

/** Placeholder text of keypad input collected during a secure step: never the digits. */
export const SECURE_DIGITS = '[secure input]';

/**
 * PII redaction as configured (`REDACT_PII`, `REDACT_PII_TYPES`). Every path by which a caller's
 * words enter storage or the model goes through one of these methods (see README, "PII").
 * All methods are idempotent, so applying them again further down a path is harmless.
 */
@Injectable()
export class PiiRedactor {
  private readonly types: ReadonlySet<PiiType>;

  constructor(config: AppConfig) {
    this.types = config.REDACT_PII === false ? new Set() : parsePiiTypes(config.REDACT_PII_TYPES ?? 'card,ssn,email,phone');
  }

  get enabled(): boolean {
    return this.types.size > 0;
  }

  text(text: string): Redaction {
    return redactPii(text, this.types);
  }

  /**
   * A caller turn with its text redacted and the placeholder types added to `redactions`
   * (a new object; other speakers come back as they are). A barged-in agent turn's `planned`
   * text is never caller speech and stays.
   */
  turn<T extends RedactableTurn>(turn: T): T {
    if (turn.speaker !== 'caller' || !this.enabled) return turn;
    const { text, found } = this.text(turn.text);
    if (!found.length) return turn;
    return { ...turn, text, redactions: [...new Set([...(turn.redactions ?? []), ...found])] };
  }

  /** Event data with caller words (`text`, `digits`, `digit` …) redacted. */
  eventData<T extends Record<string, unknown> | undefined>(data: T): T {
    if (!data || !this.enabled) return data;
    let out: Record<string, unknown> | undefined;
    for (const key of ['text', 'digits', 'transcript', 'utterance']) {
      const value = data[key];
      if (typeof value !== 'string') continue;
      const { text, found } = this.text(value);
      if (found.length) (out ??= { ...data })[key] = text;
    }
    return (out ?? data) as T;
  }

  /** Conversation history (Redis session, model prompt): caller entries redacted. */
  history<T extends { role: string; text: string }>(entries: T[]): T[] {
    if (!this.enabled) return entries;
    return entries.map((e) => (e.role === 'caller' ? { ...e, text: this.text(e.text).text } : e));
  }
}
