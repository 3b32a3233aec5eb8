export { isValidTwilioSignature, signTwilioRequest, requestedUrl, type TwilioParams } from './twilio-signature.js';
export { Twiml, type Voice } from './twiml.js';
