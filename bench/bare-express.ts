/**
 * Baseline for bench/webhooks.bench.ts: the stack the Twilio voice-AI tutorials ship — Express 5,
 * twilio's `validateRequest` on every webhook and a `VoiceResponse` built per request — with no
 * Redis, no Postgres, no queue, no logging.
 */
import express from 'express';
import twilio from 'twilio';

const TOKEN = process.env.TWILIO_AUTH_TOKEN ?? '';
const BASE = process.env.PUBLIC_BASE_URL ?? '';
const SAY = "You're through to billing. What would you like to know about your bill?";

const app = express();
app.disable('x-powered-by');
app.use(express.urlencoded({ extended: false, limit: '16kb' }));
app.post(['/twilio/voice', '/twilio/gather'], (req, res) => {
  if (!twilio.validateRequest(TOKEN, req.header('x-twilio-signature') ?? '', BASE + req.originalUrl, req.body ?? {})) {
    res.status(403).send('invalid signature');
    return;
  }
  const step = Number(req.query.step ?? 0) + 1;
  const action = `${BASE}/twilio/gather?step=${step}`;
  const response = new twilio.twiml.VoiceResponse();
  const gather = response.gather({ input: ['speech', 'dtmf'], action, method: 'POST', speechTimeout: 'auto', actionOnEmptyResult: true });
  gather.say({ voice: 'Polly.Joanna', language: 'en-US' }, SAY);
  response.redirect({ method: 'POST' }, action);
  res.type('text/xml').send(response.toString());
});
app.get('/health', (_req, res) => res.json({ status: 'ok' }));
app.listen(Number(process.env.PORT), '127.0.0.1');
