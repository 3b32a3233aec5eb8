import { WebSocket } from 'ws';
import { signTwilioRequest } from '#libs/telephony';

/** A message the server sent on a ConversationRelay socket. */
export interface RelayMessage {
  type: string;
  token?: string;
  last?: boolean;
  handoffData?: string;
}

/** Plays Twilio's side of ConversationRelay: signed upgrade, `setup`, then text prompts, interrupts, DTMF. */
export class TwilioRelayClient {
  readonly received: RelayMessage[] = [];
  /** performance.now() of each message in `received`. */
  readonly receivedAt: number[] = [];
  private ws!: WebSocket;
  closed?: { code: number; reason: string };

  constructor(
    private readonly options: { apiUrl: string; publicBaseUrl: string; authToken: string; signature?: string | null },
  ) {}

  connect(): Promise<void> {
    const url = this.options.publicBaseUrl.replace(/^http/, 'ws') + '/twilio/relay';
    const signature = this.options.signature === undefined ? signTwilioRequest(this.options.authToken, url, {}) : this.options.signature;
    this.ws = new WebSocket(this.options.apiUrl.replace(/^http/, 'ws') + '/twilio/relay', { headers: signature === null ? {} : { 'x-twilio-signature': signature } });
    this.ws.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as RelayMessage);
      this.receivedAt.push(performance.now());
    });
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      this.ws.once('error', reject);
    });
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  setup(callSid: string, accountSid: string, token: string): void {
    this.send({
      type: 'setup', sessionId: 'VX' + callSid.slice(2), accountSid, callSid, from: '+15005550006', to: '+15005550001',
      direction: 'inbound', callType: 'PSTN', callStatus: 'IN-PROGRESS', customParameters: { token },
    });
  }

  prompt(text: string): void {
    this.send({ type: 'prompt', voicePrompt: text, lang: 'en-US', last: true });
  }

  /** Resolves with the text of the next complete answer (tokens up to `last: true`) after index `from`. */
  async answer(from: number, timeoutMs = 15_000): Promise<{ text: string; end: number; firstTokenAt: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((m, k) => k >= from && m.type === 'text' && m.last === true);
      if (i >= 0) {
        const text = this.received.slice(from, i + 1).filter((m) => m.type === 'text').map((m) => m.token ?? '').join('');
        const first = this.received.findIndex((m, k) => k >= from && m.type === 'text');
        return { text, end: i + 1, firstTokenAt: this.receivedAt[first] };
      }
      if (Date.now() > deadline || this.closed) throw new Error('no complete answer');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.ws.close();
  }
}
