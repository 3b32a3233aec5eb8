/**
 * Baseline for bench/webhooks.bench.ts: a bare Express handler that parses the same form body
 * and returns the same kind of TwiML, with no signature check, no Redis, no Postgres, no queue.
 */
import express from 'express';

const TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="speech dtmf" action="https://voice.example.com/twilio/gather?step=2" method="POST" speechTimeout="auto" actionOnEmptyResult="true"><Say voice="Polly.Joanna" language="en-US">You\'re through to billing. What would you like to know about your bill?</Say></Gather><Redirect method="POST">https://voice.example.com/twilio/gather?step=2</Redirect></Response>';

const app = express();
app.disable('x-powered-by');
app.use(express.urlencoded({ extended: false, limit: '16kb' }));
app.post(['/twilio/voice', '/twilio/gather'], (_req, res) => {
  res.type('text/xml').send(TWIML);
});
app.get('/health', (_req, res) => res.json({ status: 'ok' }));
app.listen(Number(process.env.PORT), '127.0.0.1');
