export { isValidTwilioSignature, signTwilioRequest, requestedUrl, type TwilioParams } from './twilio-signature.js';
export { Twiml, type Voice } from './twiml.js';
export { TwilioRestService, type OutboundCall, type CallInstanceSummary } from './twilio-rest.service.js';
export { TwilioNumbers, TwilioNumberError, type NumberVoiceSettings, type NumberMode } from './twilio-numbers.js';
