/** What every simulator mode needs to play Twilio against a running server. */
export interface SimulatorOptions {
  /** Where the api listens (requests go here). */
  apiUrl: string;
  /** The URL Twilio would use; signatures are computed over it. */
  publicBaseUrl: string;
  authToken: string;
  accountSid: string;
  /** What the caller says, in order. */
  utterances: string[];
  print?: (line: string) => void;
  from?: string;
  to?: string;
}
