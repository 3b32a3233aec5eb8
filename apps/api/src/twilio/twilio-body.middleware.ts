import express, { type NextFunction, type Request, type Response } from 'express';

/** Twilio's webhooks are small forms; anything beyond a few KB is not from Twilio. */
const parseForm = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 200 });

/**
 * Parses Twilio's form bodies and turns every parsing problem into a plain 4xx: wrong content
 * type (415), too large (413), malformed (400). No stack trace ever reaches the client.
 */
export function twilioBody(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== 'POST') return next();
  if (!req.is('application/x-www-form-urlencoded')) {
    res.status(415).type('text/plain').send('Unsupported Media Type: Twilio webhooks are form-encoded');
    return;
  }
  parseForm(req, res, (err?: { status?: number; type?: string }) => {
    if (!err) return next();
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 400;
    res.status(status).type('text/plain').send(status === 413 ? 'Payload Too Large' : 'Bad Request: malformed form body');
  });
}
